import type { ClassificationMetrics } from '@onerun/ensemble';

/** `0.8812` → `88.12%`. */
export const pct = (x: number, digits = 2): string => `${(x * 100).toFixed(digits)}%`;

/** A number with `digits` decimals. */
export const num = (x: number, digits = 3): string => x.toFixed(digits);

/** Accuracy, NLL, ECE, Brier as table cells. */
export function metricCells(m: ClassificationMetrics): string[] {
  return [pct(m.accuracy), num(m.nll), num(m.ece), num(m.brier)];
}

/** Column titles matching `metricCells`. */
export const METRIC_COLUMNS = ['test acc', 'NLL', 'ECE', 'Brier'];

/** A plain-text table with aligned columns (first left, others right). */
export function textTable(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
