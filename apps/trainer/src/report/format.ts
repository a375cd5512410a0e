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

/** A signed number: `+0.95`, `-0.05`. */
export const signed = (x: number, digits: number): string =>
  `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(digits)}`;

/** A difference and its interval, in `scale` units: `+0.95 [+0.40, +1.50]`. */
export function intervalText(
  d: { difference: number; lower: number; upper: number },
  digits: number,
  scale = 1,
): string {
  return `${signed(d.difference * scale, digits)} [${signed(d.lower * scale, digits)}, ${signed(d.upper * scale, digits)}]`;
}

/** An accuracy difference in percentage points with its interval: `+0.95 pp [+0.40, +1.50]`. */
export const ppInterval = (d: { difference: number; lower: number; upper: number }): string =>
  intervalText(d, 2, 100).replace(' [', ' pp [');

/** An NLL difference in nats with its interval: `-0.052 [-0.071, -0.033] nats`. */
export const natsInterval = (d: { difference: number; lower: number; upper: number }): string =>
  `${intervalText(d, 3)} nats`;
