import type { ClassificationMetrics } from '@onerun/ensemble';
import type { RunMetrics } from '../evaluation/score-run.js';
import type { RunFile, RunProgress } from '../run-folder/records.js';
import { atEpoch, memberVariant, VARIANTS } from '../run-folder/variants.js';
import type { MethodPlan } from '../training/plan.js';

/** One run's part of `metrics.csv`. */
export interface CsvRun {
  method: string;
  seed: number;
  /** The tfjs backend it trained on (times of different backends are not comparable). */
  backend: string;
  progress: RunProgress;
  metrics: RunMetrics;
  /**
   * Epochs of `progress.history` this run did not train itself (FGE branched off the baseline in
   * a comparison carries the baseline's epochs up to its branching point): left out.
   */
  inheritedEpochs?: number;
}

/** The columns of `metrics.csv`: one measurement a row (tidy long form). */
export const CSV_COLUMNS = [
  'method',
  'variant',
  'seed',
  'epoch',
  'step',
  'metric',
  'value',
  'backend',
] as const;

type Row = [
  method: string,
  variant: string,
  seed: number,
  epoch: number,
  step: number,
  metric: string,
  value: number,
  backend: string,
];

const quote = (cell: string | number): string => {
  const text = String(cell);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/**
 * The epochs of a run's history it inherited rather than trained: FGE branched off the baseline
 * (a comparison's `fge`) starts its own training at its FGE phase.
 */
export function inheritedEpochs(runFile: RunFile, plan: MethodPlan): number {
  const branched = (runFile as RunFile & { branchedFrom?: string }).branchedFrom !== undefined;
  return branched ? (plan.phases.find((p) => p.kind === 'fge')?.fromEpoch ?? 0) : 0;
}

/** A `CsvRun` from what a run folder holds. */
export function csvRun(
  runFile: RunFile,
  plan: MethodPlan,
  progress: RunProgress,
  metrics: RunMetrics,
): CsvRun {
  return {
    method: runFile.config.method,
    seed: runFile.config.seed,
    backend: runFile.backend.backend,
    progress,
    metrics,
    inheritedEpochs: inheritedEpochs(runFile, plan),
  };
}

/**
 * `metrics.csv` of one or more runs, one measurement a row with the columns of `CSV_COLUMNS`:
 * after each epoch the run trained, the model being trained (variant `iterate`): its learning
 * rate, training loss, test and validation metrics and training seconds; at the end, the
 * method's result (variant: the method's name), every stored model (`member-i`, `sgd`,
 * `swa-stale-bn`, `fge-start`), the ensembles of the first and last k members (`first-k`,
 * `last-k`), SWAG's model average (`swag`), and the SWA models scored at earlier epochs
 * (`swa-at-E`, `swa-stale-bn-at-E`, `swag-at-E`). Variant names are those of the tables and
 * snapshot tags (see `run-folder/variants.ts`).
 */
export function metricsCsv(runs: CsvRun[]): string {
  const rows: Row[] = [];
  for (const { method, seed, backend, progress, metrics, inheritedEpochs = 0 } of runs) {
    const row = (
      variant: string,
      epoch: number,
      step: number,
      metric: string,
      value: number,
    ): Row => [method, variant, seed, epoch, step, metric, value, backend];
    const scores = (variant: string, epoch: number, step: number, m: ClassificationMetrics) => {
      rows.push(
        row(variant, epoch, step, 'test_accuracy', m.accuracy),
        row(variant, epoch, step, 'test_nll', m.nll),
        row(variant, epoch, step, 'test_ece', m.ece),
        row(variant, epoch, step, 'test_brier', m.brier),
      );
    };
    for (const e of progress.history) {
      if (e.epoch <= inheritedEpochs) continue;
      const at = (metric: string, value: number | undefined) => {
        if (value !== undefined) rows.push(row(VARIANTS.iterate, e.epoch, e.step, metric, value));
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
    const epoch = last?.epoch ?? 0;
    const step = last?.step ?? 0;
    scores(method, epoch, step, metrics.result);
    if (metrics.disagreement !== undefined)
      rows.push(row(method, epoch, step, 'disagreement', metrics.disagreement));
    if (metrics.start) scores(VARIANTS.start, epoch, metrics.start.step, metrics.start);
    for (const [i, m] of metrics.members.entries()) {
      // SWA's stored models are its result, the stale-BN average and the last SGD iterate.
      if (m.kind === 'swa') continue;
      scores(memberVariant(m.kind, i), epoch, m.step, m);
    }
    // SWA's "size curve" is its one average: the result again.
    const ensembles = metrics.swa === undefined;
    for (const p of ensembles ? metrics.sizeCurve : []) scores(`first-${p.k}`, epoch, step, p);
    for (const p of ensembles ? (metrics.lastK ?? []) : []) scores(`last-${p.k}`, epoch, step, p);
    if (metrics.swag) scores(VARIANTS.swag, epoch, step, metrics.swag.metrics);
    for (const at of metrics.swa?.atEpochs ?? []) {
      const atStep = progress.history.find((h) => h.epoch === at.epoch)?.step ?? 0;
      scores(atEpoch(method, at.epoch), at.epoch, atStep, at.result);
      scores(atEpoch(VARIANTS.staleBatchNorm, at.epoch), at.epoch, atStep, at.staleBatchNorm);
      if (at.swag) scores(atEpoch(VARIANTS.swag, at.epoch), at.epoch, atStep, at.swag.metrics);
    }
  }
  return `${[CSV_COLUMNS, ...rows].map((r) => r.map(quote).join(',')).join('\n')}\n`;
}
