import { seededRandom, shuffledIndices } from '@onerun/core';
import { fgeCallback } from '@onerun/fge';
import { fgeTriangular, getOptimizerLearningRate, scheduleCallback } from '@onerun/schedules';
import { type SnapshotEntry, type SnapshotStore, snapshotCallback } from '@onerun/snapshots';
import { type SwaCallback, Swag, swaCallback, WeightAverager } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs';
import type { LoadedData } from '../data/load.js';
import { RunFolderError } from '../errors.js';
import { scoreSplit } from '../evaluation/measure.js';
import type { EpochRecord, RunProgress } from '../run-folder/records.js';
import {
  pruneAveragerStates,
  type RunAverager,
  saveAverager,
  saveAveragerState,
} from './averager-state.js';
import { restoreCheckpoint } from './checkpoint-restore.js';
import type { RunConfig } from './config.js';
import { DivergenceError, firstNonFinite, weightSum, weightsAreFinite } from './divergence.js';
import { buildModel } from './models.js';
import { type MethodPlan, type Phase, planMethod } from './plan.js';
import { saveSwaMilestone } from './swa-milestone.js';
import { yieldToSignals } from './yield-to-signals.js';

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

/**
 * The order of the training examples in `epoch`: a Fisher–Yates shuffle seeded from the run's
 * seed and the epoch, so a resumed run sees exactly the batches an uninterrupted one would.
 */
export function epochOrder(seed: number, epoch: number, n: number): Int32Array {
  return shuffledIndices(n, seededRandom((seed * 1_000_003 + epoch * 7_919 + 17) >>> 0));
}

/** A compiled reference model with its SGD-with-momentum optimizer. */
export function createModel(config: RunConfig, data: Pick<LoadedData, 'inputShape' | 'classes'>) {
  const model = buildModel(config.model, {
    inputShape: data.inputShape,
    classes: data.classes,
    seed: config.seed,
  });
  const optimizer = tf.train.momentum(config.lr, config.momentum);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: [] });
  return { model, optimizer };
}

/**
 * One SGD update on a batch: cross-entropy of the softmax outputs plus `weightDecay/2·Σ‖W‖²`
 * over the kernels (not batch-norm parameters or biases). Returns the batch's cross-entropy.
 */
function makeUpdate(model: tf.LayersModel, optimizer: tf.Optimizer, weightDecay: number) {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const kernels = model.trainableWeights
    .filter((w) => /kernel/.test(w.originalName ?? w.name))
    .map((w) => w.read());
  const decay = tf.scalar(weightDecay / 2);
  const step = (x: tf.Tensor, y: tf.Tensor): tf.Scalar =>
    tf.tidy(() => {
      let ce: tf.Scalar | undefined;
      const cost = optimizer.minimize(
        () => {
          const p = model.apply(x, { training: true }) as tf.Tensor;
          ce = tf.keep(tf.mean(tf.metrics.categoricalCrossentropy(y, p)) as tf.Scalar);
          if (weightDecay === 0) return ce;
          return tf.add(ce, tf.mul(decay, tf.addN(kernels.map((k) => tf.sum(tf.square(k))))));
        },
        true,
        variables,
      );
      if (cost && cost !== ce) cost.dispose();
      return ce as tf.Scalar;
    });
  return { step, dispose: () => decay.dispose() };
}

function emptyProgress(): RunProgress {
  return { status: 'running', history: [], lossCurve: [], collections: [], trainSeconds: 0 };
}

/** The progress of `from` up to its checkpoint: what a resumed run keeps. */
function truncateTo(from: RunProgress, step: number, epoch: number): RunProgress {
  return {
    status: 'running',
    ...(from.checkpoint ? { checkpoint: from.checkpoint } : {}),
    history: from.history.filter((h) => h.epoch <= epoch),
    lossCurve: from.lossCurve.filter((p) => p.step <= step),
    collections: from.collections.filter((c) => c.step <= step),
    ...(from.start && from.start.step <= step ? { start: from.start } : {}),
    ...(from.swaMilestones
      ? { swaMilestones: from.swaMilestones.filter((m) => m.epoch <= epoch) }
      : {}),
    trainSeconds: from.history
      .filter((h) => h.epoch <= epoch)
      .reduce((sum, h) => sum + h.seconds, 0),
  };
}

/** The callbacks of one phase and how to read what they collected. */
interface PhaseCallbacks {
  phase: Phase;
  callbacks: tf.Callback[];
  /** Models collected (snapshots saved or averages folded in) so far by this phase. */
  collected(): number;
  /** Id of the last snapshot saved, for snapshot phases. */
  lastId(): string | undefined;
  swa?: SwaCallback;
}

interface PhaseContext {
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
function phaseCallbacks(phase: Phase, ctx: PhaseContext): PhaseCallbacks {
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
        bnData: ctx.data.train.xs,
        bnBatchSize: Math.max(ctx.config.batchSize, 256),
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

/**
 * Trains one run of `config.method` with the app's own loop: the data order comes from
 * `epochOrder`; the learning rate and the collections come from the packages' callbacks
 * (`scheduleCallback` + `snapshotCallback` for baseline and SSE, `fgeCallback` after a
 * standard-schedule phase for FGE, `swaCallback` with a `WeightAverager` for SWA), driven exactly
 * as `model.fit` drives callbacks. Checkpoints (weights, optimizer state, step, averager) after
 * every `checkpointEvery` epochs let a killed run resume and end as an uninterrupted one.
 */
export async function trainRun(options: TrainRunOptions): Promise<TrainRunResult> {
  const { config, data, stores } = options;
  const train = data.train;
  const plan = planMethod(config, train.size);
  const E = plan.stepsPerEpoch;
  const { model, optimizer } = createModel(config, data);
  // SWAG keeps the SWA running mean too, so the SWA model is the same either way.
  let averager: RunAverager | undefined =
    plan.collect !== 'average'
      ? undefined
      : config.swagRank > 0
        ? new Swag({ rank: config.swagRank })
        : new WeightAverager({ mode: 'swa' });

  let progress = emptyProgress();
  let startEpoch = 0;
  const notes: string[] = [];
  const resumeFrom = options.resume?.checkpoint ? options.resume : options.branch?.progress;
  if (resumeFrom?.checkpoint) {
    const store = options.resume?.checkpoint ? stores.checkpoints : options.branch?.store;
    if (!store) throw new RunFolderError('A checkpoint to resume from, but no checkpoint store.');
    const restored = await restoreCheckpoint(
      store,
      model,
      resumeFrom.checkpoint,
      stores.averagerDir,
      averager !== undefined,
    );
    if (restored.note) notes.push(restored.note);
    const ckpt = restored.checkpoint;
    if (averager && restored.averager) {
      averager.dispose();
      averager = restored.averager;
    }
    if (ckpt) {
      startEpoch = ckpt.epoch;
      progress = truncateTo(resumeFrom, ckpt.step, ckpt.epoch);
      progress.checkpoint = ckpt;
      if (options.branch) delete progress.checkpoint;
    }
  }
  // The run folder must hold exactly what its progress accounts for: members saved after the
  // last checkpoint (or by a run that never checkpointed) are saved again by this run, so they
  // go now rather than end up twice in the ensemble. Only what a run writes is ever deleted.
  const known = new Set(
    [
      ...progress.collections.map((c) => c.id),
      progress.start?.id,
      ...(progress.swaMilestones ?? []).flatMap((m) => [m.id, m.staleId]),
    ].filter(Boolean),
  );
  const unknown = (await stores.members.list()).filter(
    (e) => !known.has(e.id) && e.tags?.method === config.method,
  );
  for (const entry of unknown) await stores.members.delete(entry.id);
  if (startEpoch === 0 && stores.checkpoints && !options.branch) {
    const stale = (await stores.checkpoints.list()).filter((e) => e.tags?.kind === 'checkpoint');
    for (const entry of stale) await stores.checkpoints.delete(entry.id);
    if (unknown.length + stale.length > 0 && !options.resume) {
      notes.push(
        `no resume point recorded: the run starts over, replacing the ${unknown.length} snapshot(s) and ${stale.length} checkpoint(s) a previous attempt left`,
      );
    }
  }

  const update = makeUpdate(model, optimizer, config.weightDecay);
  const interval = Math.max(1, Math.ceil(E / 25));
  const evaluate = options.evaluateEachEpoch ?? true;
  const checkpointEvery = options.checkpointEvery ?? 1;
  const sink = options.progress;
  const context = (step: number, epoch: number): PhaseContext => ({
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
    collectedBefore: progress.collections.filter((c) => c.step > phaseStart(epoch) * E).length,
  });
  const phaseStart = (epoch: number) =>
    plan.phases.find((p) => p.fromEpoch <= epoch && epoch < p.toEpoch)?.fromEpoch ?? 0;
  const extra = (options.extraCallbacks ?? []).map((args) => new tf.CustomCallback(args));
  let active: { at: PhaseCallbacks; list: tf.CallbackList } | undefined;
  let swa: SwaCallback | undefined;
  const enter = async (phase: Phase, epoch: number) => {
    const at = phaseCallbacks(phase, context(epoch * E, epoch));
    const list = new tf.CallbackList([...at.callbacks, ...extra]);
    list.setModel(model);
    list.setParams({ epochs: phase.toEpoch, steps: E, samples: train.size });
    model.stopTraining = false;
    await list.onTrainBegin();
    active = { at, list };
    swa = at.swa ?? swa;
  };
  const leave = async () => {
    await active?.list.onTrainEnd();
    active = undefined;
  };

  sink?.begin({
    label: options.label ?? config.method,
    epochs: config.epochs,
    startEpoch,
    stepsPerEpoch: E,
  });
  let trainedSeconds = 0;
  let callbackMs = 0;
  // FGE stops right after its last collection (`model.stopTraining`, as in `model.fit`).
  let stopped = false;
  let trainedExamples = 0;
  try {
    for (let epoch = startEpoch; epoch < config.epochs; epoch++) {
      const phase = plan.phases.find((p) => p.fromEpoch <= epoch && epoch < p.toEpoch) as Phase;
      if (active?.at.phase !== phase) {
        await leave();
        await enter(phase, epoch);
        if (phase.kind === 'fge' && !progress.start && !options.plain) {
          // FGE's start model (the pretrained one its cycles leave from), scored beside the
          // ensemble as the FGE paper does.
          const entry = await stores.members.save(model, {
            step: epoch * E - 1,
            epoch,
            tags: { method: config.method, kind: 'start' },
          });
          progress.start = { id: entry.id, step: epoch * E };
        }
      }
      const { at, list } = active as { at: PhaseCallbacks; list: tf.CallbackList };
      const noteCollections = (before: number, step: number, epochAt: number, lr: number) => {
        for (let k = before; k < at.collected(); k++) {
          const id = plan.collect === 'snapshot' ? at.lastId() : undefined;
          progress.collections.push({
            step,
            epoch: epochAt,
            lr,
            kind: plan.collect === 'average' ? 'average' : 'snapshot',
            ...(id ? { id } : {}),
          });
        }
      };
      await list.onEpochBegin(epoch);
      const order = epochOrder(config.seed, epoch, train.size);
      const started = performance.now();
      const losses: tf.Scalar[] = [];
      let lossSum = 0;
      let lastLoss: number | undefined;
      let lr = 0;
      let batches = 0;
      for (let b = 0; b < E; b++) {
        const begin = b * config.batchSize;
        const size = Math.min(config.batchSize, train.size - begin);
        let t0 = performance.now();
        await list.onBatchBegin(b, { batch: b, size });
        callbackMs += performance.now() - t0;
        lr = getOptimizerLearningRate(optimizer);
        const ce = tf.tidy(() => {
          const idx = tf.tensor1d(order.subarray(begin, begin + size), 'int32');
          return update.step(tf.gather(train.xs, idx), tf.gather(train.ys, idx));
        });
        losses.push(ce);
        const before = at.collected();
        t0 = performance.now();
        await list.onBatchEnd(b, { batch: b, size, loss: ce } as unknown as tf.Logs);
        callbackMs += performance.now() - t0;
        const step = epoch * E + b;
        batches = b + 1;
        noteCollections(before, step + 1, epoch + (b + 1) / E, lr);
        stopped = model.stopTraining;
        if (losses.length === interval || b === E - 1 || stopped) {
          // The window's losses and the sum of all weights, in one read.
          const stacked = tf.tidy(() => tf.concat([tf.stack(losses), weightSum(model)]));
          const read = await stacked.data();
          tf.dispose([stacked, ...losses]);
          const values = read.subarray(0, losses.length);
          losses.length = 0;
          const bad = firstNonFinite(values);
          if (bad >= 0 || !Number.isFinite(read[read.length - 1]!)) {
            throw new DivergenceError(
              bad >= 0 ? step + 2 - values.length + bad : step + 1,
              bad >= 0 ? `the training loss is ${values[bad]}` : 'the weights are no longer finite',
              lr,
              config.lr,
              progress.checkpoint?.epoch ?? 0,
            );
          }
          await yieldToSignals();
          let sum = 0;
          for (const v of values) sum += v;
          lossSum += sum;
          lastLoss = sum / values.length;
          progress.lossCurve.push({ step: step + 1, loss: lastLoss });
        }
        sink?.update({
          epoch,
          batch: b + 1,
          lr,
          ...(lastLoss !== undefined ? { loss: lastLoss } : {}),
        });
        if (stopped) break;
      }
      const seconds = (performance.now() - started) / 1000;
      const record: EpochRecord = {
        epoch: epoch + 1,
        step: epoch * E + batches,
        lr,
        trainLoss: lossSum / batches,
        seconds,
      };
      const before = at.collected();
      const t0 = performance.now();
      await list.onEpochEnd(epoch, { loss: record.trainLoss });
      callbackMs += performance.now() - t0;
      noteCollections(before, record.step, epoch + 1, lr);
      record.seconds = (performance.now() - started) / 1000;
      trainedSeconds += record.seconds;
      trainedExamples += Math.min(train.size, batches * config.batchSize);
      progress.trainSeconds += record.seconds;
      const evalDue =
        config.evalEvery > 0
          ? (epoch + 1) % config.evalEvery === 0 || epoch + 1 === config.epochs
          : epoch + 1 === config.epochs;
      // FGE may stop before its budget: its last epoch is scored too.
      if (evaluate && (evalDue || stopped)) {
        const test = await scoreSplit(model, data.test);
        record.testLoss = test.loss;
        record.testAccuracy = test.accuracy;
        if (data.val) {
          const val = await scoreSplit(model, data.val);
          record.valLoss = val.loss;
          record.valAccuracy = val.accuracy;
        }
      }
      progress.history.push(record);
      sink?.epochEnd(record);
      const done = epoch + 1;
      if (averager && swa && !options.plain && config.swaScoreAt?.includes(done)) {
        // Before the checkpoint, so a resumed run never lacks a milestone it has passed.
        const milestone = await saveSwaMilestone({
          model,
          averager,
          swa,
          members: stores.members,
          swagDir: stores.swagDir,
          method: config.method,
          epoch: done,
          step: record.step,
        });
        progress.swaMilestones = [...(progress.swaMilestones ?? []), milestone];
      }
      if (options.keepAtEpochs?.includes(done) && options.keepStore) {
        await options.keepStore.save(
          model,
          { step: done * E - 1, epoch: done, learningRate: lr, tags: { kind: 'branch' } },
          { includeOptimizer: true },
        );
      }
      const last = done === config.epochs || stopped;
      if (stores.checkpoints && (done % checkpointEvery === 0 || last)) {
        if (!(await weightsAreFinite(model))) {
          throw new DivergenceError(
            record.step,
            'the weights are no longer finite',
            lr,
            config.lr,
            progress.checkpoint?.epoch ?? 0,
          );
        }
        await checkpoint(
          stores,
          model,
          averager,
          progress,
          last ? config.epochs : done,
          record.step,
          lr,
        );
      }
      if (stopped) break;
    }
    await leave();
  } finally {
    sink?.end();
    update.dispose();
  }

  if (averager && !options.plain) {
    const last = plan.phases.at(-1) as Phase;
    swa ??= phaseCallbacks(last, context(plan.totalSteps, config.epochs)).swa;
    await finishSwa(model, averager, swa as SwaCallback, config, stores, plan);
  }
  averager?.dispose();
  // The optimizer's slots are of no use once training is over; the model stays with the caller.
  optimizer.dispose();
  // Still 'running': the caller marks the run finished once its metrics and report are written.
  await stores.saveProgress?.(progress);
  return {
    model,
    plan,
    progress,
    members: await stores.members.list(),
    examplesPerSecond: trainedSeconds > 0 ? trainedExamples / trainedSeconds : 0,
    callbackSeconds: callbackMs / 1000,
    notes,
    startEpoch,
  };
}

async function checkpoint(
  stores: RunStores,
  model: tf.LayersModel,
  averager: RunAverager | undefined,
  progress: RunProgress,
  epoch: number,
  step: number,
  lr: number,
): Promise<void> {
  const checkpoints = stores.checkpoints as SnapshotStore;
  let averagerFile: string | undefined;
  if (averager && averager.count > 0 && stores.averagerDir) {
    averagerFile = await saveAveragerState(stores.averagerDir, step, averager);
  }
  const entry = await checkpoints.save(
    model,
    { step: step - 1, epoch, learningRate: lr, tags: { kind: 'checkpoint' } },
    { includeOptimizer: true },
  );
  progress.checkpoint = {
    id: entry.id,
    step,
    epoch,
    ...(averagerFile ? { averager: averagerFile } : {}),
  };
  await stores.saveProgress?.(progress);
  if (stores.averagerDir) {
    const live = (await checkpoints.list()).map((e) => e.step + 1);
    await pruneAveragerStates(stores.averagerDir, live);
  }
}

/**
 * SWA's end: keep the last SGD iterate, write the average into the model, save it once with the
 * SGD iterate's batch-norm statistics (to show why the recompute matters), then let the
 * `swaCallback` write the average and recompute the statistics over the training data — the SWA
 * model.
 */
async function finishSwa(
  model: tf.LayersModel,
  averager: RunAverager,
  swa: SwaCallback,
  config: RunConfig,
  stores: RunStores,
  plan: MethodPlan,
): Promise<void> {
  const meta = (kind: string) => ({
    step: plan.totalSteps - 1,
    epoch: config.epochs,
    tags: { method: config.method, kind, phase: 'final', averaged: String(averager.count) },
  });
  await stores.members.save(model, meta('sgd'));
  averager.copyTo(model);
  await stores.members.save(model, meta('swa-no-bn'));
  await swa.finalize(model);
  await stores.members.save(model, meta('swa'));
  // SWAG: the fitted Gaussian, for the Bayesian model average `eval` draws from it.
  if (averager instanceof Swag && stores.swagDir)
    await saveAverager(stores.swagDir, 'swag', averager);
}
