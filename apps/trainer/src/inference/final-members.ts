import type * as tf from '@tensorflow/tfjs';
import { loadDataFor } from '../commands/train.js';
import { UsageError } from '../errors.js';
import { forEachSwagDraw, type SwagScoring, swagScoringFor } from '../evaluation/swag-average.js';
import { type FinalModel, loadFinalMember } from './final-model.js';

/** The models whose probabilities a final prediction averages, visited one at a time. */
export interface FinalMembers {
  /** How many models are averaged. */
  count: number;
  /** `ensemble of 5`, `single model`, `SWAG model average of 30 draws …`. */
  label: string;
  /** Calls `use` with each model in turn; the model is only valid during the call. */
  forEach(use: (model: tf.LayersModel, index: number) => Promise<void>): Promise<void>;
}

/** The final model's stored snapshots (ensemble members, or SWA's one average). */
export function storedMembers(final: FinalModel): FinalMembers {
  return {
    count: final.ids.length,
    label: final.label,
    forEach: async (use) => {
      for (const [index, id] of final.ids.entries()) {
        const model = await loadFinalMember(final, id);
        try {
          await use(model, index);
        } finally {
          model.dispose();
        }
      }
    },
  };
}

/**
 * SWAG's Bayesian model average of an SWA run fitted with `--swag-rank`: the same seeded draws,
 * each with batch norm recomputed over the training data, as `onerun eval` scores.
 */
export function swagMembers(final: FinalModel, scoring: SwagScoring): FinalMembers {
  return {
    count: scoring.samples,
    label: `SWAG model average of ${scoring.samples} draws (batch norm recomputed for each)`,
    forEach: async (use) => {
      await forEachSwagDraw(final.store, final.ids[0] as string, scoring, (model, draw) =>
        use(model, draw),
      );
    },
  };
}

/**
 * The members of `final`'s prediction: its stored snapshots, or with `swag` SWAG's draws (an
 * SWA run fitted with `--swag-rank`; loads the training data for the batch-norm recompute).
 * `dispose()` frees what was loaded for them.
 */
export async function chooseMembers(
  final: FinalModel,
  options: { swag?: boolean; dataDir?: string },
): Promise<{ members: FinalMembers; dispose(): void }> {
  if (!options.swag) return { members: storedMembers(final), dispose: () => {} };
  const { config } = final.runFile;
  if (config.method !== 'swa' || config.swagRank === 0) {
    throw new UsageError(
      `--swag: ${final.folder.dir} ${config.method === 'swa' ? 'is an SWA run without SWAG' : `was trained with --method ${config.method}`}; SWAG's model average needs an SWA run trained with --swag-rank K.`,
    );
  }
  const data = await loadDataFor(config, options.dataDir);
  const scoring = swagScoringFor(config, final.folder.path('swag'), data.train) as SwagScoring;
  return { members: swagMembers(final, scoring), dispose: () => data.dispose() };
}
