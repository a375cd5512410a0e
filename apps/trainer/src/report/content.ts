import { sampleSchedule } from '@onerun/schedules';
import { backendDetails } from '../backend.js';
import type { CurveResult } from '../evaluation/find-curve.js';
import type { RunMetrics } from '../evaluation/score-run.js';
import type { VersusBaseline } from '../evaluation/versus-baseline.js';
import type { RunFile, RunProgress } from '../run-folder/records.js';
import { atEpoch, memberVariant, VARIANTS } from '../run-folder/variants.js';
import type { MethodPlan } from '../training/plan.js';
import {
  type Chart,
  curveChart,
  type EpochPoint,
  epochMetricChart,
  type LrPoint,
  lossChart,
  lrChart,
  type ReliabilityPoint,
  reliabilityChart,
  sizeCurveChart,
} from './charts.js';
import { intervalText, METRIC_COLUMNS, metricCells, num, pct } from './format.js';
import type { ReportContent, Table } from './html.js';

/** One run's part of a report: its name in legends, how it trained, what it measured. */
export interface ChartedRun {
  series: string;
  plan: MethodPlan;
  progress: RunProgress;
  metrics: RunMetrics;
}

/**
 * The charts every report shows, over one or more runs: the learning rate with the collection
 * points and the training loss on an epoch axis, test error and NLL after each epoch, the
 * ensemble-size curve of every ensemble method and the reliability diagram of every result.
 */
export function runCharts(runs: ChartedRun[]): Chart[] {
  const lr: LrPoint[] = [];
  const collections: LrPoint[] = [];
  const loss: { series: string; epoch: number; loss: number }[] = [];
  const testError: EpochPoint[] = [];
  const testNll: EpochPoint[] = [];
  const size: { series: string; size: number; error: number }[] = [];
  const reliability: ReliabilityPoint[] = [];
  for (const { series, plan, progress, metrics } of runs) {
    const epochOf = (step: number) => step / plan.stepsPerEpoch;
    for (const p of sampleSchedule(plan.schedule, { steps: plan.totalSteps, points: 300 }))
      lr.push({ series, epoch: epochOf(p.step + 1), lr: p.lr });
    for (const c of progress.collections)
      collections.push({ series, epoch: epochOf(c.step), lr: c.lr });
    for (const p of progress.lossCurve) loss.push({ series, epoch: epochOf(p.step), loss: p.loss });
    for (const e of progress.history) {
      if (e.testAccuracy !== undefined)
        testError.push({ series, epoch: e.epoch, value: 1 - e.testAccuracy });
      if (e.testLoss !== undefined) testNll.push({ series, epoch: e.epoch, value: e.testLoss });
    }
    for (const p of metrics.sizeCurve) size.push({ series, size: p.k, error: 1 - p.accuracy });
    for (const b of metrics.reliability)
      reliability.push({
        series,
        lower: b.lower,
        upper: b.upper,
        count: b.count,
        ...(b.confidence !== null && b.accuracy !== null
          ? { confidence: b.confidence, accuracy: b.accuracy }
          : {}),
      });
  }
  const charts = [lrChart(lr, collections), lossChart(loss)];
  if (testError.length > 0) charts.push(epochMetricChart('test-error', testError));
  if (testNll.length > 0) charts.push(epochMetricChart('test-nll', testNll));
  charts.push(sizeCurveChart(size), reliabilityChart(reliability));
  return charts;
}

/** `BMA of 30 (K=20)`: what a SWAG row scores. */
function swagLabel(swag: NonNullable<RunMetrics['swag']>): string {
  return `BMA of ${swag.samples} (K=${swag.columns})`;
}

/** One run in a results table: its name, its test metrics, its training time. */
export interface ResultEntry {
  name: string;
  metrics: RunMetrics;
  trainSeconds: number;
  /** Its result against the baseline's on the same test examples (absent for the baseline). */
  vsBaseline?: VersusBaseline;
}

/** Column titles of the differences against the baseline. */
export const VERSUS_COLUMNS = ['Δ acc vs baseline, 95% CI', 'Δ NLL, 95% CI'];

/** The two difference cells of a row: `+0.95 [+0.40, +1.50]` (pp) and the NLL's in nats. */
function versusCells(vs: VersusBaseline | undefined, isBaseline: boolean): string[] {
  if (!vs) return isBaseline ? ['(reference)', '(reference)'] : ['', ''];
  return [intervalText(vs.accuracy, 2, 100), intervalText(vs.nll, 3)];
}

/**
 * The results table of a comparison: one row per run, plus FGE's start model and SWA's average
 * with stale BN; with a baseline, each method's accuracy (in percentage points) and NLL
 * difference against it with its paired bootstrap interval.
 */
export function resultsTable(entries: ResultEntry[]): Table {
  const rows: string[][] = [];
  const versus = entries.some((e) => e.vsBaseline);
  const blank = versus ? ['', ''] : [];
  for (const { name, metrics, trainSeconds, vsBaseline } of entries) {
    rows.push([
      name,
      metrics.resultLabel,
      ...metricCells(metrics.result),
      ...(versus ? versusCells(vsBaseline, metrics.method === 'baseline') : []),
      num(trainSeconds, 1),
    ]);
    if (metrics.start) {
      rows.push([
        `  ${variantRow(name, metrics.method, VARIANTS.start)}`,
        'single model',
        ...metricCells(metrics.start),
        ...blank,
        '',
      ]);
    }
    if (metrics.swa) {
      rows.push([
        `  ${variantRow(name, metrics.method, VARIANTS.staleBatchNorm)}`,
        'average, no recompute',
        ...metricCells(metrics.swa.staleBatchNorm),
        ...blank,
        '',
      ]);
    }
    if (metrics.swag) {
      rows.push([
        `  ${variantRow(name, metrics.method, VARIANTS.swag)}`,
        swagLabel(metrics.swag),
        ...metricCells(metrics.swag.metrics),
        ...blank,
        '',
      ]);
    }
    for (const m of swaAtEpochModels(metrics)) {
      rows.push([
        `  ${variantRow(name, metrics.method, m.name)}`,
        m.label,
        ...metricCells(m.metrics),
        ...blank,
        '',
      ]);
    }
  }
  return {
    columns: ['method', 'result', ...METRIC_COLUMNS, ...(versus ? VERSUS_COLUMNS : []), 'train s'],
    rows,
  };
}

/**
 * A variant's row name in a table of runs named `name` (`swa`, or `swa seed 1` in a merged
 * report): the variant's name in place of the method's (`swa-stale-bn seed 1`).
 */
function variantRow(name: string, method: string, variant: string): string {
  return name.startsWith(method) ? `${variant}${name.slice(method.length)}` : `${name} ${variant}`;
}

/** The SWA models a run also scored before its end (`--swa-score-at`): name, label, metrics. */
function swaAtEpochModels(metrics: RunMetrics) {
  return (metrics.swa?.atEpochs ?? []).flatMap((at) => [
    { name: atEpoch('swa', at.epoch), label: `average of ${at.averaged}`, metrics: at.result },
    {
      name: atEpoch(VARIANTS.staleBatchNorm, at.epoch),
      label: 'average, no recompute',
      metrics: at.staleBatchNorm,
    },
    ...(at.swag
      ? [
          {
            name: atEpoch(VARIANTS.swag, at.epoch),
            label: swagLabel(at.swag),
            metrics: at.swag.metrics,
          },
        ]
      : []),
  ]);
}

/** The chart and the note of a curve between two models. */
export function curveSummary(curve: CurveResult): { chart: Chart; note: string } {
  const points = (name: string, p: CurveResult['curve']) =>
    p.t.flatMap((t, i) => [
      { path: name, t, metric: 'train loss', value: p.trainLoss[i] ?? 0 },
      { path: name, t, metric: 'test error', value: p.testError[i] ?? 0 },
    ]);
  return {
    chart: curveChart([
      ...points('Bezier curve', curve.curve),
      ...points('straight line', curve.line),
    ]),
    note: `Curve between ${curve.ends[0]} and ${curve.ends[1]}: training-loss barrier ${num(curve.line.lossBarrier)} nats along the straight line, ${num(curve.curve.lossBarrier)} along the trained Bezier curve (batch-norm statistics recomputed at each point).`,
  };
}

/** Facts every report shows about the data and the backend. */
export function runFacts(runFile: RunFile): [string, string][] {
  const { config, backend } = runFile;
  const skipped = backend.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  return [
    ['model', runFile.architecture],
    [
      'data',
      `${config.data} from ${runFile.dataSource} (${runFile.trainSize} train, ${runFile.valSize} validation, ${runFile.testSize} test)`,
    ],
    [
      'backend',
      `${backend.backend} (${backendDetails(backend)}), asked for ${backend.requested}${skipped ? `; skipped ${skipped}` : ''}`,
    ],
    [
      'training',
      `${config.epochs} epochs, batch ${config.batchSize}, SGD momentum ${config.momentum}, weight decay ${config.weightDecay}, seed ${config.seed}`,
    ],
  ];
}

/**
 * The table `eval` prints: the result, every stored model, the ensembles of the first k and of the
 * last k members.
 */
export function evalTable(metrics: RunMetrics): Table {
  const rows = [
    [`${metrics.method}: ${metrics.resultLabel}`, '', ...metricCells(metrics.result)],
    ...(metrics.start
      ? [
          [
            `${VARIANTS.start} ${metrics.start.id}`,
            String(metrics.start.step),
            ...metricCells(metrics.start),
          ],
        ]
      : []),
    ...metrics.members.map((m, i) => [
      `${memberVariant(m.kind, i)} ${m.id}`,
      String(m.step),
      ...metricCells(m),
    ]),
  ];
  if (metrics.sizeCurve.length > 1) {
    rows.push(...metrics.sizeCurve.map((p) => [`first-${p.k}`, '', ...metricCells(p)]));
    const lastK = (metrics.lastK ?? []).filter((p) => p.k < metrics.sizeCurve.length);
    rows.push(...lastK.map((p) => [`last-${p.k}`, '', ...metricCells(p)]));
  }
  if (metrics.swag) {
    rows.push([
      `${VARIANTS.swag}, ${swagLabel(metrics.swag)}`,
      '',
      ...metricCells(metrics.swag.metrics),
    ]);
  }
  rows.push(...swaAtEpochModels(metrics).map((m) => [m.name, '', ...metricCells(m.metrics)]));
  if (metrics.disagreement !== undefined && metrics.members.length > 1) {
    rows.push(['member disagreement', '', pct(metrics.disagreement), '', '', '']);
  }
  return { columns: ['model', 'update', ...METRIC_COLUMNS], rows };
}

/** The report of one `train` run. */
export function runReport(
  runFile: RunFile,
  progress: RunProgress,
  metrics: RunMetrics,
  plan: MethodPlan,
): ReportContent {
  const method = runFile.config.method;
  const charts = runCharts([{ series: method, plan, progress, metrics }]);
  return {
    title: `onerun ${method} — ${runFile.architecture}`,
    facts: [
      ['method', plan.summary],
      ...runFacts(runFile),
      ['time', `${num(progress.trainSeconds, 1)} s of training`],
    ],
    table: evalTable(metrics),
    charts,
    notes: [
      'Test metrics on the test split (the official one for Fashion-MNIST and MNIST). NLL in nats; ECE over 15 confidence bins.',
      ...(metrics.swa
        ? [
            `${VARIANTS.staleBatchNorm} is the same average with the last iterate's batch-norm statistics: ${num(metrics.swa.staleBatchNorm.nll)} NLL vs ${num(metrics.result.nll)} after the recompute.`,
          ]
        : []),
    ],
  };
}
