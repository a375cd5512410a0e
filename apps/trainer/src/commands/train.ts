import { weightSpecs } from '@onerun/core';
import { FileSnapshotStore, type SnapshotStore } from '@onerun/snapshots';
import { type LoadedData, loadData } from '../data/load.js';
import { RunFolderError, UsageError } from '../errors.js';
import { evaluateRun, type RunMetrics } from '../evaluation/score-run.js';
import { swagScoringFor } from '../evaluation/swag-average.js';
import { buildModel, modelSource } from '../models/registry.js';
import { runReport } from '../report/content.js';
import { fanOut } from '../report/fan-out.js';
import { writeReport } from '../report/html.js';
import { csvRun, metricsCsv } from '../report/metrics-csv.js';
import { runEvents } from '../report/tensorboard/run-events.js';
import { writeDataRecords } from '../run-folder/data-records.js';
import { writeFileAtomic, writeJson } from '../run-folder/files.js';
import { prepareOut, RunFolder, recordFreshRun } from '../run-folder/folder.js';
import { lockRunFolder } from '../run-folder/lock.js';
import type { BackendChange, RunFile, RunProgress } from '../run-folder/records.js';
import { writeTestScores } from '../run-folder/test-scores.js';
import {
  architectureOf,
  type BackendRecord,
  type RunConfig,
  type RunConfigInput,
  resolveConfig,
} from '../training/config.js';
import { type ProgressSink, trainRun } from '../training/loop.js';
import { type MethodPlan, planMethod } from '../training/plan.js';

/** Loads the data set a configuration names. */
export function loadDataFor(config: RunConfig, dataDir?: string): Promise<LoadedData> {
  const dir = dataDir ?? config.dataDir;
  return loadData({
    data: config.data,
    ...(dir !== undefined ? { dataDir: dir } : {}),
    valSplit: config.valSplit,
    ...(config.imageSize !== undefined ? { imageSize: config.imageSize } : {}),
    ...(config.testSplit !== undefined ? { testSplit: config.testSplit } : {}),
    ...(config.labelColumn !== undefined ? { labelColumn: config.labelColumn } : {}),
    ...(config.trainLimit !== undefined ? { trainLimit: config.trainLimit } : {}),
    ...(config.testLimit !== undefined ? { testLimit: config.testLimit } : {}),
    // The synthetic set is data: its seed does not follow the training seed.
    seed: config.synthetic?.seed ?? 0,
    ...(config.synthetic ? { synthetic: config.synthetic } : {}),
  });
}

/**
 * The weight list of the architecture a config builds (for `config.json`). Building it also
 * checks that the model fits the data (`ModelFitError` before anything is written).
 */
async function architectureWeights(
  config: RunConfig,
  data: LoadedData,
): Promise<RunFile['weights']> {
  const model = await buildModel(config.model, {
    inputShape: data.inputShape,
    classes: data.classes,
    seed: config.seed,
  });
  try {
    return weightSpecs(model).map(({ name, shape }) => ({ name, shape }));
  } finally {
    model.dispose();
  }
}

/**
 * A finished run whose `metrics.json` is missing: nothing to train; the final steps below score
 * its stored models again and rewrite the metrics and the report.
 */
function rescored(progress: RunProgress) {
  return {
    model: undefined,
    progress,
    startEpoch: progress.history.length,
    notes: [
      `metrics.json was missing from this finished run: its stored models were scored again (nothing was trained).`,
    ],
    examplesPerSecond: 0,
  };
}

/** A resume refuses other data: the content hash recorded when the run started must match. */
async function assertSameData(folder: RunFolder, runFile: RunFile, data: LoadedData) {
  if (runFile.dataHash === undefined || runFile.dataHash === data.contentHash) return;
  throw new RunFolderError(
    `${folder.dir} was trained on data with content hash ${runFile.dataHash} (${runFile.dataSource}), but the data found now (${data.source}) hashes to ${data.contentHash}; resume it with the same data (--data-dir or $ONERUN_DATA_DIR), or choose another --out.`,
  );
}

/**
 * A resume on another backend changes the run's numbers: refused unless
 * `--allow-backend-change`, and then recorded in `config.json` (`backendChanges`).
 */
async function checkBackend(
  folder: RunFolder,
  runFile: RunFile,
  progress: RunProgress | undefined,
  options: TrainIntoOptions,
) {
  const last = runFile.backendChanges?.at(-1)?.to ?? runFile.backend.backend;
  const now = options.backend.backend;
  if (last === now) return;
  if (!options.allowBackendChange) {
    throw new UsageError(
      `${folder.dir} holds an unfinished run trained on the ${last} backend, not ${now}: resuming on another backend changes its numbers. Pass --backend ${last}, or --allow-backend-change to go on on ${now} (recorded in config.json).`,
    );
  }
  const change: BackendChange = {
    atEpoch: progress?.checkpoint?.epoch ?? 0,
    from: last,
    to: now,
    at: new Date().toISOString(),
  };
  await writeJson(folder.path('config'), {
    ...runFile,
    backendChanges: [...(runFile.backendChanges ?? []), change],
  });
}

/** What a finished `train` reports. */
export interface TrainOutcome {
  dir: string;
  config: RunConfig;
  backend: BackendRecord;
  plan: Pick<MethodPlan, 'summary' | 'stepsPerEpoch' | 'totalSteps'>;
  metrics: RunMetrics;
  progress: RunProgress;
  /** Epoch the run resumed from, when it did. */
  resumedFrom?: number;
  /** What the user should know about how the run resumed (a checkpoint fallback, a restart). */
  notes: string[];
  report: string;
  /** Path of the run's `metrics.csv`. */
  metricsCsv: string;
  examplesPerSecond: number;
}

/** Options of `trainInto`. */
export interface TrainIntoOptions {
  out: string;
  force: boolean;
  /** Resume an unfinished run on another backend than it trained on (recorded in config.json). */
  allowBackendChange?: boolean;
  /** Options as given; on a resume only those explicitly given are checked against the folder. */
  input: RunConfigInput;
  given: Partial<RunConfig>;
  backend: BackendRecord;
  /** Already loaded data (compare shares one load across its runs). */
  data?: LoadedData;
  progress?: ProgressSink;
  label?: string;
  /** Compare: keep a checkpoint at these epochs in `<out>/branches`. */
  keepAtEpochs?: number[];
  /** Compare: start from another run's kept checkpoint instead of from scratch. */
  branch?: { store: SnapshotStore; progress: RunProgress; from: string };
  /** Write the run's own report (compare writes one for all). */
  report?: boolean;
}

/**
 * `onerun train`: trains one method into a run folder (config, snapshots, checkpoints, progress,
 * metrics, report), or resumes the unfinished run already there. Validates everything (options,
 * budget, data, folder) before writing anything.
 */
export async function trainInto(options: TrainIntoOptions): Promise<TrainOutcome> {
  // One process per run folder: a second one fails here at once (RunLockedError, exit 2).
  const lock = await lockRunFolder(options.out);
  try {
    return await trainLocked(options);
  } finally {
    await lock.release();
  }
}

async function trainLocked(options: TrainIntoOptions): Promise<TrainOutcome> {
  const folder = new RunFolder(options.out);
  const decision = await prepareOut(folder, { force: options.force, given: options.given });
  const config = decision.kind === 'fresh' ? resolveConfig(options.input) : decision.runFile.config;
  const data = options.data ?? (await loadDataFor(config));
  try {
    const plan = planMethod(config, data.train.size);
    const weights = await architectureWeights(config, data);
    const source = await modelSource(config.model);
    let progress: RunProgress | undefined;
    if (decision.kind !== 'fresh') {
      const recorded = decision.runFile.modelSource;
      if (recorded?.sha256 !== undefined && recorded.sha256 !== source.sha256) {
        throw new RunFolderError(
          `${folder.dir} was trained with ${recorded.name} of SHA-256 ${recorded.sha256.slice(0, 12)}…, but that file now hashes to ${source.sha256?.slice(0, 12)}…; restore the model file, choose another --out, or pass --force to start over.`,
        );
      }
      const stored = JSON.stringify(decision.runFile.weights);
      if (stored !== JSON.stringify(weights)) {
        throw new RunFolderError(
          `${folder.dir} holds weights of another architecture than ${architectureOf(config)} on this data; ` +
            'choose another --out, or pass --force to start over.',
        );
      }
      await assertSameData(folder, decision.runFile, data);
      if (decision.kind === 'resume') {
        await checkBackend(folder, decision.runFile, decision.progress, options);
      }
      progress = decision.progress;
    } else {
      await recordFreshRun(folder);
      const runFile: RunFile & { branchedFrom?: string } = {
        onerun: 1,
        config,
        architecture: architectureOf(config),
        modelSource: source,
        weights,
        backend: options.backend,
        dataSource: data.source,
        dataHash: data.contentHash,
        trainSize: data.train.size,
        testSize: data.test.size,
        valSize: data.val?.size ?? 0,
        createdAt: new Date().toISOString(),
        ...(options.branch ? { branchedFrom: options.branch.from } : {}),
      };
      await writeJson(folder.path('config'), runFile);
      await writeDataRecords(folder, data);
    }
    const stores = folder.stores();
    const events = runEvents(folder.dir, config.method);
    const sink = fanOut([options.progress, events.sink]);
    const result =
      decision.kind === 'rescore'
        ? rescored(decision.progress)
        : await trainRun({
            config,
            data,
            stores,
            ...(progress?.checkpoint ? { resume: progress } : {}),
            ...(options.branch && !progress?.checkpoint
              ? { branch: { store: options.branch.store, progress: options.branch.progress } }
              : {}),
            ...(options.keepAtEpochs
              ? {
                  keepAtEpochs: options.keepAtEpochs,
                  keepStore: new FileSnapshotStore(folder.path('branches')),
                }
              : {}),
            ...(sink ? { progress: sink } : {}),
            label: options.label ?? config.method,
          });
    result.model?.dispose();
    const resumedFrom = progress?.checkpoint ? result.startEpoch : undefined;
    const stepOf = new Map(result.progress.collections.map((c) => [c.id, c.step]));
    const { metrics, examples } = await evaluateRun(
      config.method,
      stores.members,
      data.test,
      (entry) => stepOf.get(entry.id) ?? entry.step + 1,
      swagScoringFor(config, folder.path('swag'), data.train),
    );
    events.evaluation(result.progress, metrics);
    await writeJson(folder.path('metrics'), metrics);
    await writeTestScores(folder, examples);
    const csv = folder.path('metricsCsv');
    await writeFileAtomic(
      csv,
      metricsCsv([csvRun(await folder.requireRunFile(), plan, result.progress, metrics)]),
    );
    let report = '';
    if (options.report ?? true) {
      const runFile = await folder.requireRunFile();
      report = await writeReport(folder.dir, runReport(runFile, result.progress, metrics, plan));
    }
    // Finished only now: a run killed (or failed) before this point is resumed by a rerun,
    // which completes these final steps from the last checkpoint without training again.
    result.progress.status = 'done';
    await writeJson(folder.path('progress'), result.progress);
    return {
      dir: folder.dir,
      config,
      backend: options.backend,
      plan: {
        summary: plan.summary,
        stepsPerEpoch: plan.stepsPerEpoch,
        totalSteps: plan.totalSteps,
      },
      metrics,
      progress: result.progress,
      ...(resumedFrom !== undefined && resumedFrom > 0 ? { resumedFrom } : {}),
      notes: result.notes,
      report,
      metricsCsv: csv,
      examplesPerSecond: result.examplesPerSecond,
    };
  } finally {
    if (!options.data) data.dispose();
  }
}
