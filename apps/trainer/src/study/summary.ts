import {
  type AnalysisRow,
  arms,
  type ClaimResult,
  differences,
  digitsOf,
  intervalText,
  meanCell,
  ruleText,
  select,
  UNIT,
} from './analysis.js';
import type { StudyResults } from './collect.js';
import { type ForestItem, forestSvg } from './forest-svg.js';
import type { Metric, Selector, StudyPlan } from './plan.js';
import { mean, paired } from './stats.js';

/** A table of formatted cells. */
export interface MdTable {
  columns: string[];
  rows: string[][];
}

/** A Markdown table, columns padded to their widest cell as the formatter lays them out. */
export function markdownTable(t: MdTable): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = [t.columns, ...t.rows].map((r) => r.map(cell));
  const widths = t.columns.map((_, i) => Math.max(1, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]) =>
    `| ${widths.map((w, i) => (r[i] ?? '') + ' '.repeat(w - [...(r[i] ?? '')].length)).join(' | ')} |`;
  return [
    line(rows[0] as string[]),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

/** The verdict table: one line per claim. */
export function verdictTable(claims: ClaimResult[]): MdTable {
  return {
    columns: [
      '#',
      'claim',
      'paper',
      'ours: d = method − comparator, mean [95% CI]',
      'seeds with d < 0',
      'rule',
      'verdict',
    ],
    rows: claims.map(({ claim, stats, verdict }) => [
      claim.id,
      claim.claim,
      claim.paper ?? '',
      `${intervalText(stats, digitsOf(claim.metric))} ${UNIT[claim.metric]} (${claim.metric})`.replace(
        '  ',
        ' ',
      ),
      stats.n ? `${stats.negative}/${stats.n}` : '—',
      ruleText(claim.rule, claim.metric),
      `**${verdict.verdict}**`,
    ]),
  };
}

/** The scored models of one (model, budget, setting), mean ± 95% half-width, and vs the baseline. */
export function metricsTable(
  plan: StudyPlan | undefined,
  rows: AnalysisRow[],
  arm: { model: string; budget: number; setting: string },
): MdTable {
  const at = (method: string, variant: string, setting = arm.setting): Selector => ({
    model: arm.model,
    budget: arm.budget,
    setting,
    method,
    variant,
  });
  const own = rows.filter(
    (r) =>
      r.model === arm.model &&
      r.budget === arm.budget &&
      (r.setting ?? 'primary') === arm.setting &&
      r.method !== 'curve',
  );
  const variants = plan?.variants ?? [
    ...new Map(
      own.map((r) => [
        `${r.method}/${r.variant}`,
        { method: r.method, variant: r.variant, label: `${r.method} ${r.variant}` },
      ]),
    ).values(),
  ];
  const base =
    select(rows, at('baseline', 'final')).length > 0
      ? at('baseline', 'final')
      : at('baseline', 'final', 'primary');
  const table: MdTable = {
    columns: [
      'model',
      'seeds',
      'test error %',
      'NLL',
      'ECE',
      'Brier',
      'vs baseline: error pp',
      'vs baseline: NLL',
    ],
    rows: [],
  };
  for (const v of variants) {
    const sel = at(v.method, v.variant);
    const got = select(rows, sel);
    if (got.length === 0) continue;
    const col = (k: 'testError' | 'nll' | 'ece' | 'brier', scale: number) =>
      got.map((r) => (r[k] as number) * scale);
    const isBase =
      v.method === 'baseline' &&
      v.variant === 'final' &&
      (base.setting ?? 'primary') === arm.setting;
    table.rows.push([
      v.label,
      String(got.length),
      meanCell(col('testError', 100), 2),
      meanCell(col('nll', 1), 3),
      meanCell(col('ece', 1), 3),
      meanCell(col('brier', 1), 3),
      isBase ? '' : intervalText(paired(differences(rows, sel, base, 'error'))),
      isBase ? '' : intervalText(paired(differences(rows, sel, base, 'nll')), 3),
    ]);
  }
  return table;
}

/** The plan's secondary comparisons: error and NLL differences with intervals. */
export function comparisonTable(plan: StudyPlan, rows: AnalysisRow[]): MdTable {
  const table: MdTable = {
    columns: [
      'method',
      'compared with (same seeds)',
      'error pp, mean [95% CI]',
      'NLL, mean [95% CI]',
      'seeds (d < 0 in error)',
    ],
    rows: [],
  };
  for (const c of plan.comparisons ?? []) {
    const e = paired(differences(rows, c.method, c.comparator, 'error'));
    const n = paired(differences(rows, c.method, c.comparator, 'nll'));
    if (e.n === 0) continue;
    const where = (s: Selector) =>
      [s.model, s.budget !== undefined ? `B = ${s.budget}` : undefined].filter(Boolean).join(' ');
    table.rows.push([
      `${c.label}${where(c.method) ? ` (${where(c.method)})` : ''}`,
      c.comparatorLabel ?? `${c.comparator.method} ${c.comparator.variant}`,
      intervalText(e),
      intervalText(n, 3),
      `${e.negative}/${e.n}`,
    ]);
  }
  return table;
}

/** Barriers of every path. */
export function curveTable(results: Pick<StudyResults, 'curves'>): MdTable {
  return {
    columns: [
      'model',
      'seed',
      'ends',
      'line barrier (nats)',
      'curve barrier (nats)',
      'line: max test error %',
      'curve: max test error %',
    ],
    rows: (results.curves ?? []).map((c) => [
      c.model,
      String(c.seed),
      c.ends.join(' ↔ '),
      c.line.barrier.toFixed(3),
      c.curve.barrier.toFixed(3),
      (100 * Math.max(...c.line.testError)).toFixed(2),
      (100 * Math.max(...c.curve.testError)).toFixed(2),
    ]),
  };
}

/** Mean wall time per kind of job (the seed left out of the name). */
export function timeTable(results: Pick<StudyResults, 'jobs'>): MdTable {
  const groups = new Map<string, number[]>();
  for (const j of results.jobs) {
    const kind = j.name.replace(/-s\d+-/, '-s*-');
    groups.set(kind, [...(groups.get(kind) ?? []), j.seconds]);
  }
  return {
    columns: ['job', 'runs', 'wall time per run, s (mean)'],
    rows: [...groups].map(([kind, s]) => [kind, String(s.length), mean(s).toFixed(0)]),
  };
}

const VERDICT_COLOR = (v: string) =>
  v === 'holds' ? '#2ca02c' : v.startsWith('does not hold') ? '#d62728' : '#7f7f7f';

/** One forest plot per metric: every claim's d with its 95% interval and margin. */
export function claimForests(claims: ClaimResult[]): { metric: Metric; svg: string }[] {
  const metrics = [...new Set(claims.map((c) => c.claim.metric))];
  return metrics.flatMap((metric) => {
    const items: ForestItem[] = claims
      .filter((c) => c.claim.metric === metric && c.stats.n > 0)
      .map((c) => ({
        label: `${c.claim.id}: ${c.claim.claim}`.slice(0, 52),
        mean: c.stats.mean,
        lo: c.stats.ci95[0],
        hi: c.stats.ci95[1],
        ...(c.claim.rule.test !== 'sign' ? { margin: c.claim.rule.margin } : {}),
        color: VERDICT_COLOR(c.verdict.verdict),
      }));
    if (items.length === 0) return [];
    const unit = UNIT[metric] ? ` (${UNIT[metric]})` : '';
    return [
      {
        metric,
        svg: forestSvg(
          `Claims on ${metric}: d = method − comparator, mean and 95% CI (dashed: −δ)`,
          `d${unit}; below 0 favours the method`,
          items,
        ),
      },
    ];
  });
}

/** The study's Markdown summary (headings from level `depth`). */
export function summaryMarkdown(
  plan: StudyPlan,
  results: StudyResults,
  rows: AnalysisRow[],
  claims: ClaimResult[],
  figures: { name: string; alt: string }[],
  depth = 3,
): string {
  const h = '#'.repeat(depth);
  const pending = results.pending?.length ?? 0;
  const total = results.jobs.length + pending;
  const primary = claims.filter((c) => c.claim.primary !== false);
  const secondary = claims.filter((c) => c.claim.primary === false);
  const out = [
    `Collected ${results.collected.slice(0, 16).replace('T', ' ')} UTC from ${results.jobs.length} finished jobs of ${total}${pending > 0 ? ` (**in progress: ${pending} still to run; verdicts wait for all**)` : ''}; commits ${results.commits.map((c) => c.slice(0, 7)).join(', ')}; ${results.backends.join('; ') || 'backend not recorded'}; tfjs ${results.tfjs ?? '?'}; Node ${results.node}.`,
    '',
  ];
  if (pending > 0 && pending < total) {
    out.push(
      `${h} Verdicts`,
      '',
      `Not yet: ${results.jobs.length} of ${total} jobs are done, and a verdict from part of a pre-registered sample would not be the pre-registered test.`,
      '',
    );
  } else {
    out.push(
      `${h} Verdicts${secondary.length ? ' (primary claims)' : ''}`,
      '',
      markdownTable(verdictTable(primary)),
      '',
    );
    if (secondary.length)
      out.push(`${h} Verdicts (secondary claims)`, '', markdownTable(verdictTable(secondary)), '');
  }
  for (const arm of arms(rows)) {
    const table = metricsTable(plan, rows, arm);
    if (table.rows.length === 0) continue;
    out.push(
      `${h} Test metrics: ${arm.model.toUpperCase()}, B = ${arm.budget}${arm.setting !== 'primary' ? `, setting ${arm.setting}` : ''} (mean ± 95% CI half-width over seeds; differences paired by seed)`,
      '',
      markdownTable(table),
      '',
    );
  }
  const comparisons = comparisonTable(plan, rows);
  if (comparisons.rows.length)
    out.push(`${h} Secondary comparisons (no verdicts)`, '', markdownTable(comparisons), '');
  if ((results.curves ?? []).length)
    out.push(
      `${h} Mode connectivity: loss barrier = max training loss along the path − mean of the two ends`,
      '',
      markdownTable(curveTable(results)),
      '',
    );
  out.push(`${h} Wall time per job`, '', markdownTable(timeTable(results)), '');
  for (const f of figures) out.push(`![${f.alt}](${f.name})`, '');
  return out.join('\n');
}
