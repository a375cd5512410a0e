import { join } from 'node:path';
import { batchNormLayers, type DataSource } from '@onerun/core';
import {
  type ClassificationMetrics,
  classificationMetrics,
  type ReliabilityBin,
  reliabilityDiagram,
} from '@onerun/ensemble';
import type { SnapshotStore } from '@onerun/snapshots';
import { recomputeBatchNorm, Swag } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/load.js';
import { RunFolderError } from '../errors.js';
import { loadAverager } from '../training/averager-state.js';
import type { RunConfig } from '../training/config.js';

/** How to score SWAG: where its state is, how many draws, their seed, the data for BN. */
export interface SwagScoring {
  /** Folder holding `swag.json` / `swag.bin` (the run folder's `swag/`). */
  dir: string;
  samples: number;
  seed: number;
  /** Training inputs for the batch-norm recompute of every draw. */
  bnData: DataSource;
  bnBatchSize: number;
}

/** How a run scores SWAG, or `undefined` for runs without it. */
export function swagScoringFor(
  config: RunConfig,
  swagDir: string,
  train: Split,
): SwagScoring | undefined {
  if (config.method !== 'swa' || config.swagRank === 0) return undefined;
  return {
    dir: swagDir,
    samples: config.swagSamples,
    seed: config.seed,
    bnData: train.batches(Math.max(config.batchSize, 256)),
    bnBatchSize: Math.max(config.batchSize, 256),
  };
}

/** SWAG's Bayesian model average on the test split, and the Gaussian it drew from. */
export interface SwagScore {
  rank: number;
  /** Deviation columns held (≤ rank); fewer than 2 means diagonal draws. */
  columns: number;
  samples: number;
  metrics: ClassificationMetrics;
  reliability: ReliabilityBin[];
}

/** The fitted SWAG Gaussian a run saved (`swag.json` or a `swag-at-<epoch>.json` in `scoring.dir`). */
async function loadSwag(scoring: SwagScoring, stateFile: string): Promise<Swag> {
  try {
    const loaded = await loadAverager(scoring.dir, stateFile);
    if (!(loaded instanceof Swag)) {
      loaded.dispose();
      throw new RunFolderError(`${join(scoring.dir, stateFile)} holds no SWAG state.`);
    }
    return loaded;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new RunFolderError(
        `The run has no SWAG state (${join(scoring.dir, stateFile)}); finish it with onerun train --out DIR.`,
      );
    }
    throw error;
  }
}

/**
 * SWAG's draws, one at a time: `scoring.samples` seeded draws (seed `scoring.seed · 1000 + s`)
 * from the SWAG Gaussian written into the SWA model (architecture from the snapshot `modelId`),
 * batch-norm statistics (where the model has batch norm) recomputed over the training data for each, handed to `use` — the
 * models whose averaged probabilities are SWAG's Bayesian model average. The model is reused
 * between draws and disposed at the end.
 */
export async function forEachSwagDraw(
  store: SnapshotStore,
  modelId: string,
  scoring: SwagScoring,
  use: (model: tf.LayersModel, draw: number) => Promise<void> | void,
  /** The state file in `scoring.dir`: the end of the run, or a `swag-at-<epoch>.json`. */
  stateFile = 'swag.json',
): Promise<{ rank: number; columns: number }> {
  const swag = await loadSwag(scoring, stateFile);
  try {
    const model = await store.load(modelId);
    const hasBatchNorm = batchNormLayers(model).length > 0;
    try {
      for (let s = 0; s < scoring.samples; s++) {
        swag.sampleInto(model, { seed: scoring.seed * 1000 + s });
        if (hasBatchNorm) {
          await recomputeBatchNorm(model, scoring.bnData, { batchSize: scoring.bnBatchSize });
        }
        await use(model, s);
      }
    } finally {
      model.dispose();
    }
    return { rank: swag.rank, columns: swag.columns };
  } finally {
    swag.dispose();
  }
}

/**
 * SWAG's Bayesian model average (Maddox et al. 2019) on the test split: the test probabilities
 * of {@link forEachSwagDraw}'s draws, averaged.
 */
export async function scoreSwag(
  store: SnapshotStore,
  modelId: string,
  test: Split,
  scoring: SwagScoring,
  bins: number,
  /** The state file in `scoring.dir`: the end of the run, or a `swag-at-<epoch>.json`. */
  stateFile = 'swag.json',
): Promise<SwagScore> {
  let sum: tf.Tensor | undefined;
  const testXs = test.inputs();
  try {
    const fitted = await forEachSwagDraw(
      store,
      modelId,
      scoring,
      (model) => {
        const probs = model.predict(testXs, { batchSize: 512 }) as tf.Tensor;
        const next = sum ? tf.add(sum, probs) : probs;
        if (sum) tf.dispose([sum, probs]);
        sum = next;
      },
      stateFile,
    );
    const mean = tf.div(sum as tf.Tensor, scoring.samples);
    try {
      return {
        ...fitted,
        samples: scoring.samples,
        metrics: await classificationMetrics(mean, test.labels, { bins }),
        reliability: await reliabilityDiagram(mean, test.labels, { bins }),
      };
    } finally {
      mean.dispose();
    }
  } finally {
    sum?.dispose();
    testXs.dispose();
  }
}
