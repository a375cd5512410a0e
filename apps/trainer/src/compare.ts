import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FileSnapshotStore } from '@onerun/snapshots';
import { curveChart, lossChart, lrChart, reliabilityChart, sizeCurveChart } from './charts.js';
import {
  type BackendRecord,
  DEFAULT_CYCLES,
  type MethodName,
  type RunConfig,
  type RunConfigInput,
  resolveConfig,
} from './config.js';
import { type CurveResult, findCurve } from './curve.js';
import type { DataName, LoadedData } from './data.js';
import { UsageError } from './errors.js';
import type { RunMetrics } from './evaluate.js';
import { readJsonIfExists, writeJson } from './files.js';
import { METRIC_COLUMNS, metricCells, num } from './format.js';
import type { ModelName } from './models.js';
import { ensureDir } from './out-dir.js';
import { type MethodPlan, planMethod } from './plan.js';
import type { RunFile, RunProgress } from './records.js';
import { type ReportContent, type Table, writeReport } from './report.js';
import { metricSeries, runFacts, runSeries } from './reports.js';
import { loadDataFor, type TrainOutcome, trainInto } from './run.js';
import { RunFolder } from './run-folder.js';
import type { ProgressSink } from './train.js';

/** Curve-finding settings of a comparison (`false` to skip the curve). */
export interface CompareCurveOptions {
  epochs: number;
  points: number;
  evalExamples: number;
}

/** What defines a comparison; stored in `compare.json`. */
export interface CompareSettings {
  budget: number;
  model: ModelName;
  data: DataName;
  dataDir?: string;
  methods: MethodName[];
  seed: number;
  lr?: number;
  batchSize?: number;
  /** SSE cycles (FGE uses its own default unless `fgeCycles`). */
  cycles?: number;
  fgeCycles?: number;
  trainLimit?: number;
  testLimit?: number;
  valSplit?: number;
  curve: CompareCurveOptions | false;
}

/** Options of `compare`. */
export interface CompareOptions extends CompareSettings {
  out: string;
  force: boolean;
  backend: BackendRecord;
  progress?: (label: string) => ProgressSink | undefined;
  log?: (line: string) => void;
}

/** One method's line in a comparison. */
export interface CompareRow {
  method: MethodName;
  label: string;
  models: number;
  metrics: RunMetrics['result'];
  trainSeconds: number;
  dir: string;
}

/** What `compare` produced. */
export interface CompareOutcome {
  dir: string;
  rows: CompareRow[];
  curve?: CurveResult;
  table: Table;
  report: string;
  seconds: number;
  backend: BackendRecord;
}

interface CompareFile {
  onerunCompare: 1;
  settings: CompareSettings;
  status: 'running' | 'done';
}

const COMPARE_ENTRIES = [
  'compare.json',
  'metrics.json',
  'report.html',
  'charts',
  'curve',
  'baseline',
  'sse',
  'fge',
  'swa',
];

const METHOD_SEED_OFFSET: Record<MethodName, number> = { baseline: 0, fge: 0, sse: 1, swa: 2 };

/** `planMethod` with its advice in compare's own options (`--budget`, `--fge-cycles`). */
function planInCompare(method: MethodName, config: RunConfig, trainSize: number): MethodPlan {
  try {
    return planMethod(config, trainSize);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const cycles = method === 'fge' ? '--fge-cycles' : '--cycles';
    throw new UsageError(
      error.message.replaceAll('--epochs', '--budget').replaceAll('--cycles', cycles),
    );
  }
}

/** The configuration of one method inside a comparison. */
export function methodConfig(settings: CompareSettings, method: MethodName): RunConfig {
  const input: RunConfigInput = {
    method,
    model: settings.model,
    data: settings.data,
    epochs: settings.budget,
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
    ...(settings.lr !== undefined ? { lr: settings.lr } : {}),
    ...(settings.batchSize !== undefined ? { batchSize: settings.batchSize } : {}),
    ...(settings.trainLimit !== undefined ? { trainLimit: settings.trainLimit } : {}),
    ...(settings.testLimit !== undefined ? { testLimit: settings.testLimit } : {}),
    ...(settings.valSplit !== undefined ? { valSplit: settings.valSplit } : {}),
  };
  return resolveConfig(input);
}

async function prepareCompareOut(dir: string, settings: CompareSettings, force: boolean) {
  const path = join(dir, 'compare.json');
  const existing = await readJsonIfExists<CompareFile>(path);
  const nonEmpty = existsSync(dir) && (await readdir(dir)).length > 0;
  if (force) {
    for (const name of COMPARE_ENTRIES) await rm(join(dir, name), { recursive: true, force: true });
  } else if (existing?.status === 'done') {
    throw new UsageError(
      `${dir} already holds a finished comparison; pass --force to overwrite it, or choose another --out.`,
    );
  } else if (existing) {
    const before = existing.settings as unknown as Record<string, unknown>;
    const now = settings as unknown as Record<string, unknown>;
    for (const key of new Set([...Object.keys(before), ...Object.keys(now)])) {
      if (JSON.stringify(before[key]) !== JSON.stringify(now[key])) {
        throw new UsageError(
          `${dir} holds an unfinished comparison with ${key} = ${JSON.stringify(before[key])}, not ${JSON.stringify(now[key])}; rerun it with the same options to resume, choose another --out, or pass --force.`,
        );
      }
    }
  } else if (nonEmpty) {
    throw new UsageError(
      `${dir} exists and is not an onerun comparison; choose another --out, or pass --force to write into it.`,
    );
  }
  await ensureDir(dir);
  await writeJson(path, { onerunCompare: 1, settings, status: 'running' } satisfies CompareFile);
}

/** The outcome of a finished sub-run, read back from its folder. */
async function finishedOutcome(
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
    examplesPerSecond: 0,
    notes: [],
  };
}

/**
 * `onerun compare`: baseline, SSE, FGE and SWA at the same budget of epochs on the same data,
 * seed and initial weights, then one curve between the baseline and the last SSE snapshot, one
 * table and one report. FGE branches off the baseline run at 80% of the budget (its checkpoint
 * with optimizer state), as the FGE paper starts from a model pretrained with the standard
 * schedule; SWA follows the official SWA schedule from the start. An interrupted comparison
 * resumes where it stopped when rerun with the same options.
 */
export async function compare(options: CompareOptions): Promise<CompareOutcome> {
  const started = performance.now();
  const dir = resolve(options.out);
  const { out: _out, force, backend, progress, log, ...settings } = options;
  if (settings.methods.length === 0) {
    throw new UsageError(
      'No methods to compare; pass --methods with some of baseline,sse,fge,swa.',
    );
  }
  const configs = new Map(settings.methods.map((m) => [m, methodConfig(settings, m)]));
  const data: LoadedData = await loadDataFor(configs.values().next().value as RunConfig);
  try {
    // Refuse bad budgets before anything is written.
    const plans = new Map<MethodName, MethodPlan>();
    for (const [m, c] of configs) plans.set(m, planInCompare(m, c, data.train.size));
    await prepareCompareOut(dir, settings, force);
    log?.(
      `backend: ${backend.backend}${backend.skipped.length > 0 ? `; skipped ${backend.skipped.map((s) => `${s.backend} (${s.reason})`).join(', ')}` : ''}`,
    );
    const outcomes = new Map<MethodName, TrainOutcome>();
    const fgePlan = plans.get('fge');
    const branchEpoch = fgePlan?.phases[1]?.fromEpoch;
    for (const method of settings.methods) {
      const sub = join(dir, method);
      const done = await finishedOutcome(sub, backend);
      if (done) {
        log?.(`${method}: already finished in ${sub}`);
        outcomes.set(method, done);
        continue;
      }
      const config = configs.get(method) as RunConfig;
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
    let curve: CurveResult | undefined;
    const a = outcomes.get('baseline');
    const b = outcomes.get('sse');
    if (settings.curve && a && b) {
      const curveDir = join(dir, 'curve');
      const existing = await readJsonIfExists<CurveResult>(join(curveDir, 'result.json'));
      if (existing) curve = existing;
      else {
        const aId = a.metrics.members.at(-1)?.id as string;
        const bId = b.metrics.members.at(-1)?.id as string;
        await mkdir(curveDir, { recursive: true });
        curve = await findCurve(
          a.config,
          data,
          {
            label: `baseline ${aId}`,
            store: new FileSnapshotStore(join(a.dir, 'snapshots')),
            id: aId,
          },
          { label: `sse ${bId}`, store: new FileSnapshotStore(join(b.dir, 'snapshots')), id: bId },
          {
            ...settings.curve,
            lr: a.config.lr,
            batchSize: a.config.batchSize,
            weightDecay: a.config.weightDecay,
            seed: a.config.seed,
          },
          curveDir,
        );
        await writeJson(join(curveDir, 'result.json'), curve);
      }
      log?.(
        `curve: loss barrier ${num(curve.line.lossBarrier)} along the straight line, ${num(curve.curve.lossBarrier)} along the curve`,
      );
    }
    const rows = compareRows(settings.methods, outcomes);
    const table = compareTable(rows, outcomes);
    const runFile = (await new RunFolder(
      (outcomes.values().next().value as TrainOutcome).dir,
    ).requireRunFile()) as RunFile;
    const seconds = (performance.now() - started) / 1000;
    const content = compareReport(settings, runFile, outcomes, plans, table, curve, seconds);
    const report = await writeReport(dir, content);
    await writeJson(join(dir, 'metrics.json'), { settings, rows, curve, seconds, backend });
    await writeJson(join(dir, 'compare.json'), {
      onerunCompare: 1,
      settings,
      status: 'done',
    } satisfies CompareFile);
    return { dir, rows, ...(curve ? { curve } : {}), table, report, seconds, backend };
  } finally {
    data.dispose();
  }
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

function compareRows(methods: MethodName[], outcomes: Map<MethodName, TrainOutcome>): CompareRow[] {
  const rows: CompareRow[] = [];
  for (const method of methods) {
    const o = outcomes.get(method);
    if (!o) continue;
    rows.push({
      method,
      label: o.metrics.resultLabel,
      models: o.metrics.models,
      metrics: o.metrics.result,
      trainSeconds: o.progress.trainSeconds,
      dir: o.dir,
    });
  }
  return rows;
}

function compareTable(rows: CompareRow[], outcomes: Map<MethodName, TrainOutcome>): Table {
  const out: string[][] = [];
  for (const r of rows) {
    out.push([r.method, r.label, ...metricCells(r.metrics), num(r.trainSeconds, 1)]);
    const swa = outcomes.get(r.method)?.metrics.swa;
    if (swa) {
      out.push([
        '  swa, stale BN',
        'average, no recompute',
        ...metricCells(swa.staleBatchNorm),
        '',
      ]);
    }
  }
  return { columns: ['method', 'result', ...METRIC_COLUMNS, 'train s'], rows: out };
}

function compareReport(
  settings: CompareSettings,
  runFile: RunFile,
  outcomes: Map<MethodName, TrainOutcome>,
  plans: Map<MethodName, MethodPlan>,
  table: Table,
  curve: CurveResult | undefined,
  seconds: number,
): ReportContent {
  const lr: ReturnType<typeof runSeries>['lr'] = [];
  const collections: ReturnType<typeof runSeries>['collections'] = [];
  const loss: ReturnType<typeof runSeries>['loss'] = [];
  const size: ReturnType<typeof metricSeries>['size'] = [];
  const reliability: ReturnType<typeof metricSeries>['reliability'] = [];
  for (const [method, o] of outcomes) {
    const s = runSeries(method, plans.get(method) as MethodPlan, o.progress);
    lr.push(...s.lr);
    collections.push(...s.collections);
    loss.push(...s.loss);
    const m = metricSeries(method, o.metrics);
    size.push(...m.size);
    reliability.push(...m.reliability);
  }
  const charts = [
    lrChart(lr, collections),
    lossChart(loss),
    sizeCurveChart(size),
    reliabilityChart(reliability),
  ];
  const notes = [
    `Same data and budget of epochs for every method; independent runs (seeds ${settings.seed}, ${settings.seed + 1}, ${settings.seed + 2} for the baseline, SSE and SWA). FGE continues the baseline run from 80% of the budget (the FGE paper pretrains with the standard schedule); SWA follows the official SWA schedule from the start, averages once per epoch over its last quarter, then recomputes batch-norm statistics.`,
    'Test metrics on the test split (the official one for Fashion-MNIST and MNIST). NLL in nats; ECE over 15 confidence bins.',
  ];
  if (curve) {
    const points = (name: string, p: CurveResult['curve']) =>
      p.t.flatMap((t, i) => [
        { path: name, t, metric: 'train loss', value: p.trainLoss[i] ?? 0 },
        { path: name, t, metric: 'test error', value: p.testError[i] ?? 0 },
      ]);
    charts.push(
      curveChart([...points('Bezier curve', curve.curve), ...points('straight line', curve.line)]),
    );
    notes.push(
      `Curve between ${curve.ends[0]} and ${curve.ends[1]}: training-loss barrier ${num(curve.line.lossBarrier)} nats along the straight line, ${num(curve.curve.lossBarrier)} along the trained Bezier curve (batch-norm statistics recomputed at each point).`,
    );
  }
  const facts: [string, string][] = [
    ['budget', `${settings.budget} epochs per method; methods ${settings.methods.join(', ')}`],
    ...runFacts(runFile).filter(([k]) => k !== 'training'),
    ['time', `${num(seconds, 1)} s in all`],
  ];
  return { title: `onerun compare — ${runFile.architecture}`, facts, table, charts, notes };
}
