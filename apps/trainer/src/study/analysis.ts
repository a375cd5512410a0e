import type { CurveRow, ResultRow, StudyResults } from './collect.js';
import type { Metric, PlanClaim, Selector, StudyPlan, VerdictRule } from './plan.js';
import { halfWidth, mean, type PairedStats, paired } from './stats.js';
import { decide, type Verdict } from './verdict.js';

/** A row as the analysis sees it: a scored model, or a path's barrier (method `curve`). */
export type AnalysisRow = Partial<ResultRow> & {
  model: string;
  budget: number;
  seed: number;
  method: string;
  variant: string;
  setting?: string;
  barrier?: number;
};

const FIELD: Record<Metric, keyof AnalysisRow> = {
  error: 'testError',
  nll: 'nll',
  ece: 'ece',
  brier: 'brier',
  barrier: 'barrier',
};
/** Display units: error in percentage points, the others as they are. */
export const SCALE: Record<Metric, number> = { error: 100, nll: 1, ece: 1, brier: 1, barrier: 1 };
export const UNIT: Record<Metric, string> = {
  error: 'pp',
  nll: 'nats',
  ece: '',
  brier: '',
  barrier: 'nats',
};

/** The results' rows plus one `curve/bezier` and one `curve/line` row (the barrier) per path. */
export function analysisRows(results: Pick<StudyResults, 'rows' | 'curves'>): AnalysisRow[] {
  const curveRows = (c: CurveRow): AnalysisRow[] =>
    (['curve', 'line'] as const).map((path) => ({
      model: c.model,
      budget: c.budget,
      seed: c.seed,
      setting: c.setting ?? 'primary',
      method: 'curve',
      variant: path === 'curve' ? 'bezier' : 'line',
      barrier: c[path].barrier,
    }));
  return [...results.rows, ...(results.curves ?? []).flatMap(curveRows)];
}

function matches(row: AnalysisRow, s: Selector): boolean {
  return (
    row.method === s.method &&
    row.variant === s.variant &&
    (row.setting ?? 'primary') === (s.setting ?? 'primary') &&
    (s.model === undefined || row.model === s.model) &&
    (s.budget === undefined || row.budget === s.budget)
  );
}

const pairKey = (r: AnalysisRow) => `${r.model}|${r.budget}|${r.seed}`;

/** The rows `s` selects. */
export function select(rows: AnalysisRow[], s: Selector): AnalysisRow[] {
  return rows.filter((r) => matches(r, s));
}

/**
 * Paired differences `a − b` of `metric` (display units) over the runs both have: the same
 * model, budget and seed.
 */
export function differences(
  rows: AnalysisRow[],
  a: Selector,
  b: Selector,
  metric: Metric,
): number[] {
  const field = FIELD[metric];
  const B = new Map(select(rows, b).map((r) => [pairKey(r), r]));
  const ds: number[] = [];
  for (const ra of select(rows, a)) {
    const rb = B.get(pairKey(ra));
    const x = ra[field];
    const y = rb?.[field];
    if (typeof x === 'number' && typeof y === 'number') ds.push((x - y) * SCALE[metric]);
  }
  return ds;
}

/** A claim judged. */
export interface ClaimResult {
  claim: PlanClaim;
  differences: number[];
  stats: PairedStats;
  verdict: Verdict;
}

/** Every claim of the plan, judged by its rule on the paired differences. */
export function judgeClaims(plan: StudyPlan, rows: AnalysisRow[]): ClaimResult[] {
  return plan.claims.map((claim) => {
    const ds = differences(rows, claim.method, claim.comparator, claim.metric);
    const stats = paired(ds);
    return { claim, differences: ds, stats, verdict: decide(ds, stats, claim.rule) };
  });
}

/** `superiority (95%, δ = 0.2 pp)`, `equivalence (TOST, 90%, ±0.2 pp)`, `sign test (α = 0.05)`. */
export function ruleText(rule: VerdictRule, metric: Metric): string {
  const unit = UNIT[metric] ? ` ${UNIT[metric]}` : '';
  if (rule.test === 'sign') return `sign test (one-sided, α = ${rule.alpha ?? 0.05})`;
  if (rule.test === 'equivalence')
    return `equivalence (TOST, ${Math.round((rule.level ?? 0.9) * 100)}%, ±${rule.margin}${unit})`;
  return `superiority (${Math.round((rule.level ?? 0.95) * 100)}%, δ = ${rule.margin}${unit}${rule.everySeed ? ', every seed' : ''})`;
}

/** Mean ± 95% half-width of a metric (display units) over the selected rows. */
export function meanCell(values: number[], digits: number): string {
  if (values.length === 0) return '—';
  const m = mean(values);
  if (values.length < 2) return m.toFixed(digits);
  return `${m.toFixed(digits)} ± ${halfWidth(values).toFixed(digits)}`;
}

/** `+0.12` / `-0.40` / `—`. */
export const signed = (x: number, digits = 2) =>
  Number.isFinite(x) ? (x >= 0 ? `+${x.toFixed(digits)}` : x.toFixed(digits)) : '—';

/** `-0.54 [-0.70, -0.38]`, or `-0.45 (n = 1)`. */
export function intervalText(s: PairedStats, digits = 2): string {
  return s.n < 2
    ? `${signed(s.mean, digits)} (n = ${s.n})`
    : `${signed(s.mean, digits)} [${signed(s.ci95[0], digits)}, ${signed(s.ci95[1], digits)}]`;
}

/** Digits a metric is shown with. */
export const digitsOf = (metric: Metric) => (metric === 'error' ? 2 : 3);

/** The (model, budget, setting) cells that have rows, in the order they first appear. */
export function arms(rows: AnalysisRow[]): { model: string; budget: number; setting: string }[] {
  const seen = new Map<string, { model: string; budget: number; setting: string }>();
  for (const r of rows) {
    if (r.method === 'curve') continue;
    const setting = r.setting ?? 'primary';
    const key = `${r.model}|${r.budget}|${setting}`;
    if (!seen.has(key)) seen.set(key, { model: r.model, budget: r.budget, setting });
  }
  return [...seen.values()];
}
