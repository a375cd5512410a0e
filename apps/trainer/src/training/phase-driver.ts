import type { SwaCallback } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs';
import { type PhaseCallbacks, type PhaseContext, phaseCallbacks } from './phase-callbacks.js';
import type { Phase } from './plan.js';
import type { TrainingRun } from './training-run.js';

/** Where a collection happened: updates done, (fractional) epochs done, the update's rate. */
export interface CollectionAt {
  step: number;
  epoch: number;
  lr: number;
}

/**
 * The phase being trained: its callbacks driven as `model.fit` drives them (a `tf.CallbackList`
 * with the caller's extra callbacks), the time spent in them tallied, and every model they
 * collect recorded.
 */
export class ActivePhase {
  constructor(
    readonly at: PhaseCallbacks,
    private readonly list: tf.CallbackList,
    private readonly run: TrainingRun,
  ) {}

  async epochBegin(epoch: number): Promise<void> {
    await this.list.onEpochBegin(epoch);
  }

  async batchBegin(batch: number, size: number): Promise<void> {
    await this.timed(() => this.list.onBatchBegin(batch, { batch, size }));
  }

  /** The batch's end, with its cross-entropy `loss` (still the caller's afterwards). */
  async batchEnd(batch: number, size: number, loss: tf.Scalar, where: CollectionAt): Promise<void> {
    const before = this.at.collected();
    // The caller's extra callbacks (tfjs CustomCallbacks) read and dispose the tensors in their
    // logs, and `loss` must live until the loss window reads it: they get a copy. The packages'
    // callbacks only read it, so plain runs add no kernel here.
    const copy = this.extraCallbacks ? tf.clone(loss) : loss;
    await this.timed(() =>
      this.list.onBatchEnd(batch, { batch, size, loss: copy } as unknown as tf.Logs),
    );
    if (copy !== loss && !copy.isDisposed) copy.dispose();
    this.recordCollections(before, where);
  }

  async epochEnd(epoch: number, trainLoss: number, where: CollectionAt): Promise<void> {
    const before = this.at.collected();
    await this.timed(() => this.list.onEpochEnd(epoch, { loss: trainLoss }));
    this.recordCollections(before, where);
  }

  /** Ends the phase's callbacks (`onTrainEnd`). */
  async end(): Promise<void> {
    await this.list.onTrainEnd();
  }

  private get extraCallbacks(): boolean {
    return (this.run.options.extraCallbacks?.length ?? 0) > 0;
  }

  private async timed(drive: () => Promise<void>): Promise<void> {
    const t0 = performance.now();
    await drive();
    this.run.recorder.callbackTime(performance.now() - t0);
  }

  /** One collection point for each model collected since the callbacks had collected `before`. */
  private recordCollections(before: number, { step, epoch, lr }: CollectionAt): void {
    const { plan, recorder } = this.run;
    for (let k = before; k < this.at.collected(); k++) {
      const id = plan.collect === 'snapshot' ? this.at.lastId() : undefined;
      recorder.collected({
        step,
        epoch,
        lr,
        kind: plan.collect === 'average' ? 'average' : 'snapshot',
        ...(id ? { id } : {}),
      });
    }
  }
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
    const { plan, recorder, options } = this.run;
    const phase = plan.phases.find((p) => p.fromEpoch <= epoch && epoch < p.toEpoch) as Phase;
    if (this.active?.at.phase !== phase) {
      await this.leave();
      await this.enter(phase, epoch);
      if (phase.kind === 'fge' && !recorder.progress.start && !options.plain) {
        await this.saveFgeStart(epoch);
      }
    }
    return this.active as ActivePhase;
  }

  /** Ends the active phase's callbacks (`onTrainEnd`). */
  async leave(): Promise<void> {
    await this.active?.end();
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
    this.active = new ActivePhase(at, list, this.run);
    this.swa = at.swa ?? this.swa;
  }

  /**
   * FGE's start model (the pretrained one its cycles leave from), scored beside the ensemble as
   * the FGE paper does.
   */
  private async saveFgeStart(epoch: number): Promise<void> {
    const { stores, model, config, plan, recorder } = this.run;
    const E = plan.stepsPerEpoch;
    const entry = await stores.members.save(model, {
      step: epoch * E - 1,
      epoch,
      tags: { method: config.method, kind: 'start' },
    });
    recorder.fgeStartSaved(entry.id, epoch * E);
  }

  private context(step: number, epoch: number): PhaseContext {
    const { config, data, model, optimizer, stores, averager, plan, options, recorder } = this.run;
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
      collectedBefore: recorder.collectionsAfter(phaseStart * E),
    };
  }
}
