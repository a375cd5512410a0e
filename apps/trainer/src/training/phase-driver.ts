import type { SwaCallback } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs';
import { type PhaseCallbacks, type PhaseContext, phaseCallbacks } from './phase-callbacks.js';
import type { Phase } from './plan.js';
import type { TrainingRun } from './training-run.js';

/** The phase being trained: its callbacks, and the list that drives them as `model.fit` does. */
export interface ActivePhase {
  at: PhaseCallbacks;
  list: tf.CallbackList;
}

/**
 * Switches the method's phases as the epochs go: each phase gets its own callbacks (with the
 * caller's extra ones), begun and ended as `model.fit` begins and ends training.
 */
export class PhaseDriver {
  private active: ActivePhase | undefined;
  /** The callback of the last SWA phase entered, for SWA's milestones and its finish. */
  swa: SwaCallback | undefined;
  private readonly extra: tf.CustomCallback[];

  constructor(private readonly run: TrainingRun) {
    this.extra = (run.options.extraCallbacks ?? []).map((args) => new tf.CustomCallback(args));
  }

  /** The phase of `epoch`, entered (and the previous one left) when it is a new one. */
  async at(epoch: number): Promise<ActivePhase> {
    const { plan, progress, options } = this.run;
    const phase = plan.phases.find((p) => p.fromEpoch <= epoch && epoch < p.toEpoch) as Phase;
    if (this.active?.at.phase !== phase) {
      await this.leave();
      await this.enter(phase, epoch);
      if (phase.kind === 'fge' && !progress.start && !options.plain) await this.saveFgeStart(epoch);
    }
    return this.active as ActivePhase;
  }

  /** Ends the active phase's callbacks (`onTrainEnd`). */
  async leave(): Promise<void> {
    await this.active?.list.onTrainEnd();
    this.active = undefined;
  }

  /** The SWA callback for SWA's finish: the one trained with, or a new one when none was entered. */
  swaForFinish(): SwaCallback {
    const { plan, config } = this.run;
    const last = plan.phases.at(-1) as Phase;
    this.swa ??= phaseCallbacks(last, this.context(plan.totalSteps, config.epochs)).swa;
    return this.swa as SwaCallback;
  }

  private async enter(phase: Phase, epoch: number): Promise<void> {
    const { model, plan, data } = this.run;
    const E = plan.stepsPerEpoch;
    const at = phaseCallbacks(phase, this.context(epoch * E, epoch));
    const list = new tf.CallbackList([...at.callbacks, ...this.extra]);
    list.setModel(model);
    list.setParams({ epochs: phase.toEpoch, steps: E, samples: data.train.size });
    model.stopTraining = false;
    await list.onTrainBegin();
    this.active = { at, list };
    this.swa = at.swa ?? this.swa;
  }

  /**
   * FGE's start model (the pretrained one its cycles leave from), scored beside the ensemble as
   * the FGE paper does.
   */
  private async saveFgeStart(epoch: number): Promise<void> {
    const { stores, model, config, plan, progress } = this.run;
    const E = plan.stepsPerEpoch;
    const entry = await stores.members.save(model, {
      step: epoch * E - 1,
      epoch,
      tags: { method: config.method, kind: 'start' },
    });
    progress.start = { id: entry.id, step: epoch * E };
  }

  private context(step: number, epoch: number): PhaseContext {
    const { config, data, model, optimizer, stores, averager, plan, options, progress } = this.run;
    const E = plan.stepsPerEpoch;
    const phaseStart =
      plan.phases.find((p) => p.fromEpoch <= epoch && epoch < p.toEpoch)?.fromEpoch ?? 0;
    return {
      config,
      data,
      model,
      optimizer,
      members: stores.members,
      averager,
      stepsPerEpoch: E,
      step,
      epoch,
      plain: options.plain ?? false,
      collectedBefore: progress.collections.filter((c) => c.step > phaseStart * E).length,
    };
  }
}
