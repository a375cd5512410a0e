import { fgeCallback } from '@onerun/fge';
import { fgeTriangular, scheduleCallback } from '@onerun/schedules';
import { type SnapshotStore, snapshotCallback } from '@onerun/snapshots';
import { type SwaCallback, swaCallback } from '@onerun/swa';
import type * as tf from '@tensorflow/tfjs';
import type { LoadedData } from '../data/load.js';
import type { RunAverager } from './averager-state.js';
import type { RunConfig } from './config.js';
import type { Phase } from './plan.js';

/** The callbacks of one phase and how to read what they collected. */
export interface PhaseCallbacks {
  phase: Phase;
  callbacks: tf.Callback[];
  /** Models collected (snapshots saved or averages folded in) so far by this phase. */
  collected(): number;
  /** Id of the last snapshot saved, for snapshot phases. */
  lastId(): string | undefined;
  swa?: SwaCallback;
}

/** What a phase's callbacks are built from. */
export interface PhaseContext {
  config: RunConfig;
  data: LoadedData;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  members: SnapshotStore;
  averager: RunAverager | undefined;
  stepsPerEpoch: number;
  /** Updates and epochs already done when the phase (re)starts. */
  step: number;
  epoch: number;
  /** Drive only the schedule, without collecting (plain training, for benchmarks). */
  plain: boolean;
  /** Collections already made in this phase (on a resume). */
  collectedBefore: number;
}

/** Builds the packages' callbacks for `phase`, continuing from `ctx.step` / `ctx.epoch`. */
export function phaseCallbacks(phase: Phase, ctx: PhaseContext): PhaseCallbacks {
  const none = { collected: () => 0, lastId: () => undefined };
  const tags = { method: ctx.config.method, kind: 'member' };
  const { optimizer, step } = ctx;
  if (ctx.plain) {
    const schedule =
      phase.kind === 'fge'
        ? fgeTriangular({ lr1: phase.lr1, lr2: phase.lr2, cycleSteps: phase.cycleSteps })
        : phase.schedule;
    const initialStep = phase.kind === 'fge' ? step - phase.fromEpoch * ctx.stepsPerEpoch : step;
    return { phase, callbacks: [scheduleCallback({ optimizer, schedule, initialStep })], ...none };
  }
  switch (phase.kind) {
    case 'schedule':
      return {
        phase,
        callbacks: [scheduleCallback({ optimizer, schedule: phase.schedule, initialStep: step })],
        ...none,
      };
    case 'snapshots': {
      const lr = scheduleCallback({ optimizer, schedule: phase.schedule, initialStep: step });
      const collector = snapshotCallback({ store: ctx.members, schedule: lr, tags });
      return {
        phase,
        callbacks: [lr, collector],
        collected: () => collector.saved.length,
        lastId: () => collector.saved.at(-1)?.id,
      };
    }
    case 'fge': {
      const fge = fgeCallback({
        optimizer,
        store: ctx.members,
        lr1: phase.lr1,
        lr2: phase.lr2,
        cycleSteps: phase.cycleSteps,
        // On a resume, the cycles collected before the checkpoint count too.
        cycles: phase.cycles - ctx.collectedBefore,
        tags,
      });
      fge.scheduler.reset(step - phase.fromEpoch * ctx.stepsPerEpoch);
      return {
        phase,
        callbacks: [fge],
        collected: () => fge.collected.length,
        lastId: () => fge.collected.at(-1)?.id,
      };
    }
    case 'swa': {
      const averager = ctx.averager as RunAverager;
      const lr = scheduleCallback({ optimizer, schedule: phase.schedule, initialStep: step });
      const swa = swaCallback({
        averager,
        schedule: lr,
        start: { epoch: phase.startEpoch },
        every: phase.every,
        writeAverage: false,
        bnData: ctx.data.train.batches(Math.max(ctx.config.batchSize, 256)),
      });
      return {
        phase,
        callbacks: [lr, swa],
        collected: () => averager.count,
        lastId: () => undefined,
        swa,
      };
    }
  }
}
