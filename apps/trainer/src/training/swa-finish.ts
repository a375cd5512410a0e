import { type SwaCallback, Swag } from '@onerun/swa';
import { VARIANTS } from '../run-folder/variants.js';
import { saveAverager } from './averager-state.js';
import type { TrainingRun } from './training-run.js';

/**
 * SWA's end: keep the last SGD iterate, write the average into the model, save it once with the
 * SGD iterate's batch-norm statistics (to show why the recompute matters), then let the
 * `swaCallback` write the average and recompute the statistics over the training data — the SWA
 * model.
 */
export async function finishSwa(run: TrainingRun, swa: SwaCallback): Promise<void> {
  const { model, averager, config, stores, plan } = run;
  if (!averager) return;
  const meta = (kind: string) => ({
    step: plan.totalSteps - 1,
    epoch: config.epochs,
    tags: { method: config.method, kind, phase: 'final', averaged: String(averager.count) },
  });
  await stores.members.save(model, meta('sgd'));
  averager.copyTo(model);
  await stores.members.save(model, meta(VARIANTS.staleBatchNorm));
  await swa.finalize(model);
  await stores.members.save(model, meta('swa'));
  // SWAG: the fitted Gaussian, for the Bayesian model average `eval` draws from it.
  if (averager instanceof Swag && stores.swagDir)
    await saveAverager(stores.swagDir, 'swag', averager);
}
