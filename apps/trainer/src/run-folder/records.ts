import type { ModelSourceRecord } from '../models/registry.js';
import type { BackendRecord, RunConfig } from '../training/config.js';

/** What one epoch left behind. `epoch` counts completed epochs (1-based). */
export interface EpochRecord {
  epoch: number;
  /** Updates done so far. */
  step: number;
  /** Rate of the epoch's last update. */
  lr: number;
  /** Mean training cross-entropy over the epoch's updates (without the weight-decay term). */
  trainLoss: number;
  testLoss?: number;
  testAccuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Wall-clock seconds of the epoch's training (not its evaluation). */
  seconds: number;
}

/** Mean training loss over a short window of updates ending at `step` (1-based count). */
export interface LossPoint {
  step: number;
  loss: number;
}

/** A point where the method collected a model (snapshot) or folded it into the average. */
export interface CollectionPoint {
  /** Updates done when it happened. */
  step: number;
  epoch: number;
  lr: number;
  kind: 'snapshot' | 'average';
  id?: string;
}

/** The state of a run in progress, rewritten atomically after every checkpoint. */
export interface RunProgress {
  status: 'running' | 'done';
  /** The checkpoint training resumes from (updates done and epochs done). */
  checkpoint?: { id: string; step: number; epoch: number; averager?: string };
  history: EpochRecord[];
  lossCurve: LossPoint[];
  collections: CollectionPoint[];
  /** FGE: the snapshot of the model its cycles start from (updates done then). */
  start?: { id: string; step: number };
  /** SWA: the models saved at `config.swaScoreAt` epochs (see `saveSwaMilestone`). */
  swaMilestones?: SwaMilestone[];
  /** Training seconds spent so far (summed over resumed sessions). */
  trainSeconds: number;
}

/** The SWA model saved at an epoch before the end of its run. */
export interface SwaMilestone {
  epoch: number;
  /** Models in the average then. */
  averaged: number;
  /** Snapshot with recomputed batch-norm statistics, and with the SGD iterate's. */
  id: string;
  staleId: string;
  /** SWAG's state then (a file in the run's `swag/`), when the run fits SWAG. */
  swag?: string;
}

/** What `config.json` holds: the configuration plus facts recorded when the run started. */
export interface RunFile {
  onerun: 1;
  config: RunConfig;
  architecture: string;
  /** Where the model came from (a file's SHA-256 too); absent in folders written before it was recorded. */
  modelSource?: ModelSourceRecord;
  /** Name, shape and dtype of every weight, to refuse a folder of another architecture. */
  weights: { name: string; shape: number[] }[];
  backend: BackendRecord;
  dataSource: string;
  /**
   * The data's content hash (`LoadedData.contentHash`) when the run started: a resume refuses
   * data that hashes otherwise. Absent in folders written before it was recorded.
   */
  dataHash?: string;
  /** Resumes on another backend than the run trained on (`--allow-backend-change`), in order. */
  backendChanges?: BackendChange[];
  trainSize: number;
  testSize: number;
  valSize: number;
  createdAt: string;
}

/** A resume on another backend, allowed with `--allow-backend-change`. */
export interface BackendChange {
  /** Epochs done when the run went on on `to`. */
  atEpoch: number;
  from: string;
  to: string;
  at: string;
}
