import { join } from 'node:path';
import { FileSnapshotStore } from '@onerun/snapshots';
import type { LoadedData } from '../data/load.js';
import type { RunMetrics } from '../evaluation/score-run.js';
import { num } from '../report/format.js';
import { readJsonIfExists } from '../run-folder/files.js';
import { RunFolder } from '../run-folder/folder.js';
import type { RunProgress } from '../run-folder/records.js';
import {
  type BackendRecord,
  DEFAULT_CYCLES,
  type MethodName,
  type RunConfig,
  type RunConfigInput,
  resolveConfig,
} from '../training/config.js';
import type { ProgressSink } from '../training/loop.js';
import { fgeFields, pickDefined, sseFields, swaFields } from '../training/method-knobs.js';
import { type MethodPlan, planMethod } from '../training/plan.js';
import type { CompareSettings } from './compare-settings.js';
import { type TrainOutcome, trainInto } from './train.js';

const METHOD_SEED_OFFSET: Record<MethodName, number> = { baseline: 0, fge: 0, sse: 1, swa: 2 };

/** The configuration of one method inside a comparison. */
export function methodConfig(settings: CompareSettings, method: MethodName): RunConfig {
  const swaBudget = method === 'swa' ? (settings.swaBudget ?? 1) : 1;
  const epochs = Math.round(settings.budget * swaBudget);
  const s = settings;
  const input: RunConfigInput = {
    method,
    model: settings.model,
    data: settings.data,
    epochs,
    ...(swaBudget !== 1 ? { budget: settings.budget } : {}),
    // Independent runs, as in the papers: each method its own initial weights and data order,
    // except FGE, which continues the baseline run (same seed).
    seed: settings.seed + METHOD_SEED_OFFSET[method],
    cycles:
      method === 'sse'
        ? (settings.cycles ?? DEFAULT_CYCLES.sse)
        : method === 'fge'
          ? (settings.fgeCycles ?? DEFAULT_CYCLES.fge)
          : 1,
    ...(settings.dataDir !== undefined ? { dataDir: settings.dataDir } : {}),
    ...pickDefined(settings, ['imageSize', 'testSplit', 'labelColumn']),
    ...(settings.lr !== undefined ? { lr: settings.lr } : {}),
    ...(settings.batchSize !== undefined ? { batchSize: settings.batchSize } : {}),
    ...(settings.trainLimit !== undefined ? { trainLimit: settings.trainLimit } : {}),
    ...(settings.testLimit !== undefined ? { testLimit: settings.testLimit } : {}),
    ...(settings.valSplit !== undefined ? { valSplit: settings.valSplit } : {}),
    ...pickDefined(s, ['evalEvery']),
    ...(method === 'sse' ? sseFields(s) : {}),
    ...(method === 'fge' ? fgeFields(s, epochs) : {}),
    ...(method === 'swa'
      ? {
          ...swaFields(s, epochs),
          ...(s.swaScoreBudgets !== undefined
            ? { swaScoreAt: s.swaScoreBudgets.map((b) => Math.round(b * s.budget)) }
            : {}),
        }
      : {}),
  };
  return resolveConfig(input);
}

/**
 * The methods of a comparison as independent chains: FGE continues the baseline run, so the two
 * train one after the other; every other method is a chain of its own.
 */
export function methodChains(methods: MethodName[]): MethodName[][] {
  const together = methods.includes('baseline') && methods.includes('fge');
  const chains: MethodName[][] = [];
  for (const method of methods) {
    if (together && method === 'fge') continue;
    chains.push(together && method === 'baseline' ? ['baseline', 'fge'] : [method]);
  }
  return chains;
}

/** The outcome of a finished sub-run, read back from its folder. */
export async function finishedOutcome(
  dir: string,
  backend: BackendRecord,
): Promise<TrainOutcome | undefined> {
  const folder = new RunFolder(dir);
  const progress = await folder.readProgress();
  const runFile = await folder.readRunFile();
  const metrics = await readJsonIfExists<RunMetrics>(folder.path('metrics'));
  if (progress?.status !== 'done' || !runFile || !metrics) return undefined;
  const plan = planMethod(runFile.config, runFile.trainSize);
  return {
    dir: folder.dir,
    config: runFile.config,
    backend,
    plan,
    metrics,
    progress,
    report: '',
    metricsCsv: folder.path('metricsCsv'),
    examplesPerSecond: 0,
    notes: [],
  };
}

/** FGE's starting point: the baseline's checkpoint kept at `epoch`, with its progress so far. */
async function baselineBranch(baselineDir: string, epoch: number) {
  const folder = new RunFolder(baselineDir);
  const store = new FileSnapshotStore(folder.path('branches'));
  const entry = (await store.list()).find((e) => e.epoch === epoch);
  const progress = await folder.readProgress();
  if (!entry || !progress) return undefined;
  const branchProgress: RunProgress = {
    ...progress,
    status: 'running',
    checkpoint: { id: entry.id, step: entry.step + 1, epoch },
  };
  return { store, progress: branchProgress, from: `baseline at epoch ${epoch}` };
}

/** What training the methods of a comparison needs. */
export interface MethodsContext {
  settings: CompareSettings;
  /** The comparison's folder; each method trains into `<dir>/<method>`. */
  dir: string;
  backend: BackendRecord;
  plans: Map<MethodName, MethodPlan>;
  data: LoadedData;
  progress?: (label: string) => ProgressSink | undefined;
  log?: (line: string) => void;
}

/**
 * Trains `methods` one after the other into their run folders (a method already finished there
 * is read back instead), FGE branching off the baseline's kept checkpoint when both are here.
 */
export async function trainMethods(
  context: MethodsContext,
  methods: MethodName[],
): Promise<Map<MethodName, TrainOutcome>> {
  const { settings, dir, backend, plans, data, progress, log } = context;
  const outcomes = new Map<MethodName, TrainOutcome>();
  const branchEpoch = plans.get('fge')?.phases[1]?.fromEpoch;
  for (const method of methods) {
    const sub = join(dir, method);
    const done = await finishedOutcome(sub, backend);
    if (done) {
      log?.(`${method}: already finished in ${sub}`);
      outcomes.set(method, done);
      continue;
    }
    const config = methodConfig(settings, method);
    let branch: Parameters<typeof trainInto>[0]['branch'];
    if (method === 'fge' && outcomes.has('baseline') && branchEpoch !== undefined) {
      branch = await baselineBranch(join(dir, 'baseline'), branchEpoch);
    }
    const sink = progress?.(method);
    const outcome = await trainInto({
      out: sub,
      force: false,
      input: config,
      given: config,
      backend,
      data,
      ...(sink ? { progress: sink } : {}),
      label: method,
      ...(method === 'baseline' && branchEpoch !== undefined && settings.methods.includes('fge')
        ? { keepAtEpochs: [branchEpoch] }
        : {}),
      ...(branch ? { branch } : {}),
    });
    outcomes.set(method, outcome);
    log?.(
      `${method}: ${num(outcome.metrics.result.accuracy * 100, 2)}% test accuracy (${outcome.metrics.resultLabel})`,
    );
  }
  return outcomes;
}
