import { fgeTriangular, type Schedule, sequence, sseCosine, swaDecay } from '@onerun/schedules';
import { UsageError } from '../errors.js';
import type { RunConfig } from './config.js';

/**
 * One stretch of training driven by one set of the packages' callbacks, over epochs
 * `[fromEpoch, toEpoch)`:
 * - `snapshots`: `scheduleCallback` drives the rate and `snapshotCallback` saves a member at
 *   each of the schedule's collection points (baseline, SSE);
 * - `schedule`: the rate only (FGE's pretraining);
 * - `fge`: `fgeCallback` (triangular cycles, a member at each minimum), its step 0 at `fromEpoch`;
 *   training stops right after the `cycles`-th collection (the rest of the budget is not used);
 * - `swa`: `swaCallback` drives `schedule` and averages once per epoch from `startEpoch`.
 */
export type Phase = { fromEpoch: number; toEpoch: number } & (
  | { kind: 'snapshots'; schedule: Schedule }
  | { kind: 'schedule'; schedule: Schedule }
  | { kind: 'fge'; lr1: number; lr2: number; cycleSteps: number; cycles: number }
  | {
      kind: 'swa';
      schedule: Schedule;
      startEpoch: number;
      every: { steps: number } | { epochs: 1 };
    }
);

/**
 * How a method trains, in optimizer updates: its schedule over the whole budget (for charts and
 * plain-training comparisons), the phases that drive it, and what its collection points do:
 * save a snapshot (baseline, SSE, FGE) or fold the weights into the running average (SWA).
 */
export interface MethodPlan {
  schedule: Schedule;
  phases: Phase[];
  stepsPerEpoch: number;
  totalSteps: number;
  collect: 'snapshot' | 'average';
  /** FGE: updates of the standard-schedule phase before collection starts. */
  pretrainSteps?: number;
  /** SWA: update at which averaging starts. */
  swaStart?: number;
  /** A one-line description for logs and reports. */
  summary: string;
}

/** Updates per epoch: the last, smaller batch counts as one. */
export function stepsPerEpoch(trainSize: number, batchSize: number): number {
  return Math.ceil(trainSize / batchSize);
}

/**
 * The standard schedule of the SWA/FGE reference code (`train.py` without SWA): the peak rate for
 * the first half, a linear decay to 1% of it at 90% of the budget, then constant. It is
 * `swaDecay` with the averaging start at the end of the budget and `swaLr = lr/100`.
 */
export function standardSchedule(lr: number, totalSteps: number): Schedule {
  return swaDecay({ lrInit: lr, swaLr: lr / 100, swaStart: totalSteps, totalSteps });
}

/** Builds the schedule and collection rule of `config.method` for a training split of `trainSize`. */
export function planMethod(config: RunConfig, trainSize: number): MethodPlan {
  const E = stepsPerEpoch(trainSize, config.batchSize);
  const T = config.epochs * E;
  const { lr } = config;
  // Baseline and SSE: one phase over the whole budget, a snapshot at each collection point.
  const snapshotsPlan = (schedule: Schedule, summary: string): MethodPlan => ({
    schedule,
    phases: [{ kind: 'snapshots', schedule, fromEpoch: 0, toEpoch: config.epochs }],
    stepsPerEpoch: E,
    totalSteps: T,
    collect: 'snapshot',
    summary,
  });
  switch (config.method) {
    case 'baseline': {
      return snapshotsPlan(
        standardSchedule(lr, T),
        `standard schedule from lr ${lr}; the final model is the one member`,
      );
    }
    case 'sse': {
      if (config.cycles > config.epochs) {
        throw new UsageError(
          `Budget too small: ${config.epochs} epochs for ${config.cycles} SSE cycles (each cycle ` +
            `needs at least one epoch); use --epochs ≥ ${config.cycles} or --cycles ≤ ${config.epochs}.`,
        );
      }
      return snapshotsPlan(
        sseCosine({ lr0: config.sseLr, totalSteps: T, cycles: config.cycles }),
        `cyclic cosine from lr ${config.sseLr}, ${config.cycles} cycles, a snapshot at each cycle end`,
      );
    }
    case 'fge': {
      const pretrainEpochs = Math.round(config.epochs * config.pretrainFraction);
      const P = pretrainEpochs * E;
      const phase = T - P;
      // The triangular cycle needs an even number of updates (its minimum is the midpoint).
      const c =
        config.fgeCycleEpochs !== undefined
          ? 2 * Math.floor((config.fgeCycleEpochs * E) / 2)
          : 2 * Math.floor(phase / config.cycles / 2);
      const cycles =
        config.fgeCycleEpochs !== undefined ? Math.floor(phase / Math.max(c, 1)) : config.cycles;
      if (pretrainEpochs < 1 || phase < 1 || c < 2 || cycles < 1) {
        throw new UsageError(
          `Budget too small: ${config.epochs} epochs of ${E} updates leave ${phase} updates after ` +
            `${pretrainEpochs} pretraining epochs for ${config.fgeCycleEpochs !== undefined ? `cycles of ${config.fgeCycleEpochs} epochs` : `${config.cycles} FGE cycles`} (each needs ≥ 2 ` +
            'updates and pretraining ≥ 1 epoch); raise --epochs, or lower --cycles / --fge-cycle-epochs / --fge-start.',
        );
      }
      const fge = fgeTriangular({ lr1: config.fgeLr1, lr2: config.fgeLr2, cycleSteps: c });
      const standard = standardSchedule(lr, T);
      return {
        schedule: sequence([
          { schedule: standard, steps: P },
          { schedule: fge, steps: phase },
        ]),
        phases: [
          { kind: 'schedule', schedule: standard, fromEpoch: 0, toEpoch: pretrainEpochs },
          {
            kind: 'fge',
            lr1: config.fgeLr1,
            lr2: config.fgeLr2,
            cycleSteps: c,
            cycles,
            fromEpoch: pretrainEpochs,
            toEpoch: config.epochs,
          },
        ],
        stepsPerEpoch: E,
        totalSteps: T,
        collect: 'snapshot',
        pretrainSteps: P,
        summary:
          `standard schedule from lr ${lr} for ${pretrainEpochs} epochs, then triangular cycles ` +
          `${config.fgeLr1} → ${config.fgeLr2} of ${c} updates, a snapshot at each minimum`,
      };
    }
    case 'swa': {
      if (config.epochs < 2) {
        throw new UsageError(
          `Budget too small: SWA needs at least 2 epochs (training, then averaging); use --epochs ≥ 2.`,
        );
      }
      const startEpoch = Math.min(
        config.epochs - 1,
        Math.max(1, Math.round(config.epochs * config.swaStartFraction)),
      );
      if (config.swaLr > lr) {
        throw new UsageError(
          `--swa-lr ${config.swaLr} is above --lr ${lr}; the SWA rate must be at most the peak rate.`,
        );
      }
      const early = config.swaScoreAt?.find((e) => e <= startEpoch);
      if (early !== undefined) {
        throw new UsageError(
          `--swa-score-at ${early} is not after SWA's start (epoch ${startEpoch}); nothing is averaged by then.`,
        );
      }
      const swaStart = startEpoch * E;
      const everySteps = config.swaEvery === 'epoch' ? E : config.swaEvery;
      const schedule = swaDecay({
        lrInit: lr,
        swaLr: config.swaLr,
        swaStart,
        totalSteps: T,
        collectEvery: everySteps,
      });
      const every = config.swaEvery === 'epoch' ? { epochs: 1 as const } : { steps: everySteps };
      return {
        schedule,
        phases: [
          { kind: 'swa', schedule, startEpoch, every, fromEpoch: 0, toEpoch: config.epochs },
        ],
        stepsPerEpoch: E,
        totalSteps: T,
        collect: 'average',
        swaStart,
        summary: `SWA decay from lr ${lr} to ${config.swaLr}, averaging ${config.swaEvery === 'epoch' ? 'once per epoch' : `every ${everySteps} updates`} from epoch ${startEpoch}`,
      };
    }
  }
}
