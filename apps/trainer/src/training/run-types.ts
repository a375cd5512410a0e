import type { SnapshotEntry, SnapshotStore } from '@onerun/snapshots';
import type * as tf from '@tensorflow/tfjs';
import type { LoadedData } from '../data/load.js';
import type { EpochRecord, RunProgress } from '../run-folder/records.js';
import type { RunConfig } from './config.js';
import type { MethodPlan } from './plan.js';

/** Receives training progress (the CLI draws bars from it). */
export interface ProgressSink {
  begin(info: { label: string; epochs: number; startEpoch: number; stepsPerEpoch: number }): void;
  update(info: { epoch: number; batch: number; lr: number; loss?: number }): void;
  epochEnd(record: EpochRecord): void;
  end(): void;
}

/** Where a run keeps its snapshots and resume points. */
export interface RunStores {
  /** Ensemble members and the final models (tags.kind says which). */
  members: SnapshotStore;
  /** Resume points with optimizer state; absent for runs that cannot resume (benchmarks). */
  checkpoints?: SnapshotStore;
  /** Folder for averager state files next to the checkpoints. */
  averagerDir?: string;
  /** Folder for the final SWAG state (SWA runs with a SWAG rank). */
  swagDir?: string;
  /** Called after each checkpoint with the progress to persist (atomically). */
  saveProgress?: (progress: RunProgress) => Promise<void>;
}

/** Options of `trainRun`. */
export interface TrainRunOptions {
  config: RunConfig;
  data: LoadedData;
  stores: RunStores;
  /** The state to resume from (a previous session's progress), if any. */
  resume?: RunProgress;
  /**
   * Start from a checkpoint taken in another store (compare's FGE branch off the baseline run):
   * loads weights and optimizer state, and continues from `progress` (epoch/step/history).
   */
  branch?: { store: SnapshotStore; progress: RunProgress };
  /** Save a checkpoint every this many epochs (default 1). */
  checkpointEvery?: number;
  /** Extra checkpoints to keep (e.g. compare's branching point), saved into `keepStore`. */
  keepAtEpochs?: number[];
  keepStore?: SnapshotStore;
  /** Evaluate on the test (and validation) split after every epoch (default true). */
  evaluateEachEpoch?: boolean;
  progress?: ProgressSink;
  label?: string;
  /** Drive only the method's schedule, without collecting anything (benchmark baseline). */
  plain?: boolean;
  /** Callbacks driven alongside the method's own (benchmarks), as `model.fit` would drive them. */
  extraCallbacks?: tf.CustomCallbackArgs[];
}

/** What `trainRun` produced. */
export interface TrainRunResult {
  /** The trained model (for SWA: the averaged weights with recomputed batch norm); the caller disposes it. */
  model: tf.LayersModel;
  plan: MethodPlan;
  progress: RunProgress;
  /** Snapshots saved into `stores.members`, oldest first. */
  members: SnapshotEntry[];
  /** Examples per second over the epochs trained in this call (training only). */
  examplesPerSecond: number;
  /** Seconds of those epochs spent inside the callbacks (rate setting, collection, averaging). */
  callbackSeconds: number;
  /** What the user should know about how the run (re)started: a checkpoint fallback, a restart. */
  notes: string[];
  /** Epochs already done when this call started (0 unless it resumed). */
  startEpoch: number;
}
