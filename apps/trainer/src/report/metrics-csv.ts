import type { ClassificationMetrics } from '@onerun/ensemble';
import type { RunMetrics } from '../evaluation/score-run.js';
import type { RunProgress } from '../run-folder/records.js';

/** One run's part of `metrics.csv`. */
export interface CsvRun {
  method: string;
  progress: RunProgress;
  metrics: RunMetrics;
}

/** The columns of `metrics.csv`: one measurement a row, long format for spreadsheets and pandas. */
export const CSV_COLUMNS = ['method', 'epoch', 'step', 'model', 'metric', 'value'] as const;

type Row = [
  method: string,
  epoch: number,
  step: number,
  model: string,
  metric: string,
  value: number,
];

const quote = (cell: string | number): string => {
  const text = String(cell);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

function scoreRows(base: [string, number, number], model: string, m: ClassificationMetrics): Row[] {
  return [
    [...base, model, 'test_accuracy', m.accuracy],
    [...base, model, 'test_nll', m.nll],
    [...base, model, 'test_ece', m.ece],
    [...base, model, 'test_brier', m.brier],
  ];
}

/**
 * `metrics.csv` of one or more runs: after each epoch, the model being trained (`current`): its
 * learning rate, training loss, test and validation metrics and training seconds; at the end,
 * the method's result, every stored model, the ensembles of the first and last k members
 * (`first-k`, `last-k`), FGE's start model (`start`) and, for SWA, the last SGD iterate, the
 * average with stale batch-norm statistics and SWAG's model average (`swag`), and the same at
 * every earlier epoch the SWA model was scored at (`--swa-score-at`).
 */
export function metricsCsv(runs: CsvRun[]): string {
  const rows: Row[] = [];
  for (const { method, progress, metrics } of runs) {
    for (const e of progress.history) {
      const at = (metric: string, value: number | undefined) => {
        if (value !== undefined) rows.push([method, e.epoch, e.step, 'current', metric, value]);
      };
      at('lr', e.lr);
      at('train_loss', e.trainLoss);
      at('test_nll', e.testLoss);
      at('test_accuracy', e.testAccuracy);
      at('val_nll', e.valLoss);
      at('val_accuracy', e.valAccuracy);
      at('train_seconds', e.seconds);
    }
    const last = progress.history.at(-1);
    const end: [string, number, number] = [method, last?.epoch ?? 0, last?.step ?? 0];
    rows.push(...scoreRows(end, 'result', metrics.result));
    if (metrics.start)
      rows.push(...scoreRows([method, end[1], metrics.start.step], 'start', metrics.start));
    for (const m of metrics.members) {
      rows.push(...scoreRows([method, end[1], m.step], m.id, m));
    }
    for (const p of metrics.sizeCurve) rows.push(...scoreRows(end, `first-${p.k}`, p));
    for (const p of metrics.lastK ?? []) rows.push(...scoreRows(end, `last-${p.k}`, p));
    if (metrics.disagreement !== undefined)
      rows.push([...end, 'result', 'disagreement', metrics.disagreement]);
    if (metrics.swa) {
      rows.push(...scoreRows(end, 'sgd', metrics.swa.sgd));
      rows.push(...scoreRows(end, 'swa-stale-bn', metrics.swa.staleBatchNorm));
    }
    if (metrics.swag) rows.push(...scoreRows(end, 'swag', metrics.swag.metrics));
    for (const at of metrics.swa?.atEpochs ?? []) {
      const step = progress.history.find((h) => h.epoch === at.epoch)?.step ?? 0;
      const row: [string, number, number] = [method, at.epoch, step];
      rows.push(...scoreRows(row, 'swa', at.result));
      rows.push(...scoreRows(row, 'swa-stale-bn', at.staleBatchNorm));
      if (at.swag) rows.push(...scoreRows(row, 'swag', at.swag.metrics));
    }
  }
  return `${[CSV_COLUMNS, ...rows].map((r) => r.map(quote).join(',')).join('\n')}\n`;
}
