import { sampleSchedule } from '@onerun/schedules';
import { backendDetails } from './backend.js';
import { type Chart, lossChart, lrChart, reliabilityChart, sizeCurveChart } from './charts.js';
import type { RunMetrics } from './evaluate.js';
import { METRIC_COLUMNS, metricCells, num } from './format.js';
import type { MethodPlan } from './plan.js';
import type { RunFile, RunProgress } from './records.js';
import type { ReportContent } from './report.js';

/** Chart data of one run, tagged with a series name (the method). */
export function runSeries(series: string, plan: MethodPlan, progress: RunProgress) {
  const lr = sampleSchedule(plan.schedule, { steps: plan.totalSteps, points: 300 }).map((p) => ({
    series,
    step: p.step + 1,
    lr: p.lr,
  }));
  const collections = progress.collections.map((c) => ({ series, step: c.step, lr: c.lr }));
  const loss = progress.lossCurve.map((p) => ({ series, step: p.step, loss: p.loss }));
  return { lr, collections, loss };
}

/** Reliability and size-curve points of one run's metrics. */
export function metricSeries(series: string, metrics: RunMetrics) {
  return {
    size: metrics.sizeCurve.map((p) => ({ series, size: p.k, error: 1 - p.accuracy })),
    reliability: metrics.reliability
      .filter((b) => b.count > 0 && b.confidence !== null && b.accuracy !== null)
      .map((b) => ({
        series,
        confidence: b.confidence as number,
        accuracy: b.accuracy as number,
        count: b.count,
      })),
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

/** The report of one `train` run. */
export function runReport(
  runFile: RunFile,
  progress: RunProgress,
  metrics: RunMetrics,
  plan: MethodPlan,
): ReportContent {
  const method = runFile.config.method;
  const series = runSeries(method, plan, progress);
  const ms = metricSeries(method, metrics);
  const rows = [
    [`${method}: ${metrics.resultLabel}`, '', ...metricCells(metrics.result)],
    ...metrics.members.map((m) => [`  ${m.kind} ${m.id}`, String(m.step), ...metricCells(m)]),
  ];
  const charts: Chart[] = [
    lrChart(series.lr, series.collections),
    lossChart(series.loss),
    sizeCurveChart(ms.size),
    reliabilityChart(ms.reliability),
  ];
  return {
    title: `onerun ${method} — ${runFile.architecture}`,
    facts: [
      ['method', plan.summary],
      ...runFacts(runFile),
      ['time', `${num(progress.trainSeconds, 1)} s of training`],
    ],
    table: { columns: ['model', 'update', ...METRIC_COLUMNS], rows },
    charts,
    notes: [
      'Test metrics on the test split (the official one for Fashion-MNIST and MNIST). NLL in nats; ECE over 15 confidence bins.',
      ...(metrics.swa
        ? [
            `swa-no-bn is the same average with the last iterate's batch-norm statistics: ${num(metrics.swa.staleBatchNorm.nll)} NLL vs ${num(metrics.result.nll)} after the recompute.`,
          ]
        : []),
    ],
  };
}
