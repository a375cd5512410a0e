import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FileSnapshotStore } from '@onerun/snapshots';
import type { LoadedData } from '../data/load.js';
import { UsageError } from '../errors.js';
import { type CurveResult, findCurve } from '../evaluation/find-curve.js';
import type { RunMetrics } from '../evaluation/score-run.js';
import type { VersusBaseline } from '../evaluation/versus-baseline.js';
import { buildModel } from '../models/registry.js';
import { curveSummary, resultsTable, runCharts, runFacts } from '../report/content.js';
import { num } from '../report/format.js';
import { type ReportContent, type Table, writeReport } from '../report/html.js';
import { csvRun, metricsCsv } from '../report/metrics-csv.js';
import { verdicts } from '../report/verdicts.js';
import { readJsonIfExists, writeFileAtomic, writeJson } from '../run-folder/files.js';
import { RunFolder } from '../run-folder/folder.js';
import { lockRunFolder, RUN_LOCK_FILE, type RunLock } from '../run-folder/lock.js';
import { ensureDir } from '../run-folder/out-dir.js';
import {
  assertNoLinks,
  clearWritten,
  readWritten,
  startWritten,
} from '../run-folder/provenance.js';
import type { RunFile } from '../run-folder/records.js';
import type { BackendRecord, MethodName, RunConfig } from '../training/config.js';
import type { ProgressSink } from '../training/loop.js';
import { type MethodPlan, planMethod } from '../training/plan.js';
import {
  type BootstrapSettings,
  compareBootstrap,
  intervalsAgainstBaseline,
} from './compare-intervals.js';
import { trainInWorkers } from './compare-jobs.js';
import { methodChains, methodConfig, trainMethods } from './compare-methods.js';
import type { CompareSettings } from './compare-settings.js';
import { loadDataFor, type TrainOutcome } from './train.js';

/** Options of `compare`. */
export interface CompareOptions extends CompareSettings {
  out: string;
  force: boolean;
  backend: BackendRecord;
  progress?: (label: string) => ProgressSink | undefined;
  log?: (line: string) => void;
  /**
   * Worker processes that train independent methods at the same time (default 1: all in this
   * process). FGE continues the baseline, so the two share one worker.
   */
  jobs?: number;
}

/** One method's line in a comparison. */
export interface CompareRow {
  method: MethodName;
  label: string;
  models: number;
  metrics: RunMetrics['result'];
  trainSeconds: number;
  dir: string;
  /**
   * The result minus the baseline's on the same test examples (accuracy as a fraction, NLL in
   * nats), with paired bootstrap intervals; absent for the baseline and without one.
   */
  vsBaseline?: VersusBaseline;
}

/** What `compare` produced. */
export interface CompareOutcome {
  dir: string;
  rows: CompareRow[];
  /** How the intervals against the baseline were drawn. */
  bootstrap: BootstrapSettings;
  /** Who won, in words: the headline per metric and one line per method. */
  verdicts: { headline: string[]; details: string[] };
  curve?: CurveResult;
  table: Table;
  report: string;
  /** Path of `metrics.csv` (every measurement, one a row). */
  metricsCsv: string;
  seconds: number;
  backend: BackendRecord;
}

interface CompareFile {
  onerunCompare: 1;
  settings: CompareSettings;
  status: 'running' | 'done';
}

/** What compare writes into its folder: its files and one run folder per method. */
const COMPARE_ENTRIES = [
  'compare.json',
  'metrics.json',
  'metrics.csv',
  'report.html',
  'charts',
  'curve',
  'baseline',
  'sse',
  'fge',
  'swa',
];

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

/**
 * Readies the comparison folder: a new or empty one is started (with the record of what compare
 * writes), an unfinished comparison with the same settings is resumed, and `--force` deletes only
 * what an earlier compare recorded writing. A folder that is not recognisably a comparison is
 * refused, `--force` or not.
 */
async function prepareCompareOut(dir: string, settings: CompareSettings, force: boolean) {
  await assertNoLinks(dir, COMPARE_ENTRIES);
  const { dir: folder } = await ensureDir(dir);
  const path = join(folder, 'compare.json');
  const nonEmpty = (await readdir(folder)).some((name) => !name.startsWith(RUN_LOCK_FILE));
  const record = nonEmpty ? await readWritten(folder) : undefined;
  const ours = record?.command === 'compare';
  const existing = nonEmpty ? await readJsonIfExists<CompareFile>(path) : undefined;
  if (!nonEmpty) {
    await startWritten(folder, 'compare', COMPARE_ENTRIES);
  } else if (force || (ours && existing?.onerunCompare !== 1)) {
    // --force, or a comparison killed before its compare.json: only what compare recorded goes.
    await clearWritten(folder, 'compare');
    await startWritten(folder, 'compare', COMPARE_ENTRIES);
  } else if (existing?.onerunCompare !== 1) {
    throw new UsageError(
      `${folder} exists and is not an onerun comparison; choose another --out (an empty or new folder).`,
    );
  } else if (existing.status === 'done') {
    throw new UsageError(
      `${folder} already holds a finished comparison; choose another --out${ours ? ', or pass --force to overwrite it' : ''}.`,
    );
  } else {
    const before = existing.settings as unknown as Record<string, unknown>;
    const now = settings as unknown as Record<string, unknown>;
    for (const key of new Set([...Object.keys(before), ...Object.keys(now)])) {
      if (JSON.stringify(before[key]) !== JSON.stringify(now[key])) {
        throw new UsageError(
          `${folder} holds an unfinished comparison with ${key} = ${JSON.stringify(before[key])}, not ${JSON.stringify(now[key])}; rerun it with the same options to resume, or choose another --out${ours ? ', or pass --force to start over' : ''}.`,
        );
      }
    }
  }
  await writeJson(path, { onerunCompare: 1, settings, status: 'running' } satisfies CompareFile);
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
  const twice = settings.methods.find((m, i) => settings.methods.indexOf(m) !== i);
  if (twice !== undefined) {
    throw new UsageError(
      `--methods ${settings.methods.join(',')} names ${twice} twice; expected each method once (one run folder per method).`,
    );
  }
  const configs = new Map(settings.methods.map((m) => [m, methodConfig(settings, m)]));
  const data: LoadedData = await loadDataFor(configs.values().next().value as RunConfig);
  // One process per comparison, as per run folder: a second one on the same --out would also
  // train the curve and rewrite compare.json and the report; it fails at once (exit 2).
  let lock: RunLock | undefined;
  try {
    lock = await lockRunFolder(dir);
    // Refuse bad budgets before anything is written.
    const plans = new Map<MethodName, MethodPlan>();
    for (const [m, c] of configs) plans.set(m, planInCompare(m, c, data.train.size));
    // So is a model that does not fit the data (ModelFitError).
    const probe = await buildModel(settings.model, {
      inputShape: data.inputShape,
      classes: data.classes,
      seed: settings.seed,
    });
    probe.dispose();
    await prepareCompareOut(dir, settings, force);
    log?.(
      `backend: ${backend.backend}${backend.skipped.length > 0 ? `; skipped ${backend.skipped.map((s) => `${s.backend} (${s.reason})`).join(', ')}` : ''}`,
    );
    const chains = methodChains(settings.methods);
    const jobs = Math.min(options.jobs ?? 1, chains.length);
    const context = { settings, dir, backend, plans, ...(progress ? { progress } : {}) };
    // In parallel, worker processes train the chains into their run folders, which the
    // in-process pass below then reads back as finished.
    if (jobs > 1) await trainInWorkers({ ...context, ...(log ? { log } : {}) }, chains, jobs);
    const outcomes = await trainMethods(
      { ...context, data, ...(log && jobs === 1 ? { log } : {}) },
      chains.flat(),
    );
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
    const bootstrap = compareBootstrap(settings.seed);
    const intervals = await intervalsAgainstBaseline(outcomes, data.test, bootstrap);
    const rows = compareRows(settings.methods, outcomes, intervals);
    const table = resultsTable(
      rows.map((r) => ({
        name: r.method,
        metrics: (outcomes.get(r.method) as TrainOutcome).metrics,
        trainSeconds: r.trainSeconds,
        ...(r.vsBaseline ? { vsBaseline: r.vsBaseline } : {}),
      })),
    );
    const said = verdicts(
      rows.flatMap((r) => (r.vsBaseline ? [{ name: r.method, vsBaseline: r.vsBaseline }] : [])),
    );
    const runFile = (await new RunFolder(
      (outcomes.values().next().value as TrainOutcome).dir,
    ).requireRunFile()) as RunFile;
    const seconds = (performance.now() - started) / 1000;
    const content = compareReport(settings, runFile, outcomes, plans, table, curve, seconds);
    if (intervals.size > 0) {
      content.summary = said;
      content.notes = [bootstrapNote(bootstrap, data.test.size), ...(content.notes ?? [])];
    }
    const report = await writeReport(dir, content);
    await writeJson(join(dir, 'metrics.json'), {
      settings,
      jobs,
      rows,
      bootstrap,
      verdicts: said,
      curve,
      seconds,
      backend,
    });
    const csvRuns = [];
    for (const [method, o] of outcomes) {
      const runOf = await new RunFolder(o.dir).requireRunFile();
      csvRuns.push(csvRun(runOf, plans.get(method) as MethodPlan, o.progress, o.metrics));
    }
    const csv = join(dir, 'metrics.csv');
    await writeFileAtomic(csv, metricsCsv(csvRuns));
    await writeJson(join(dir, 'compare.json'), {
      onerunCompare: 1,
      settings,
      status: 'done',
    } satisfies CompareFile);
    return {
      dir,
      rows,
      bootstrap,
      verdicts: said,
      ...(curve ? { curve } : {}),
      table,
      report,
      metricsCsv: csv,
      seconds,
      backend,
    };
  } finally {
    await lock?.release();
    data.dispose();
  }
}

/** How to read the Δ columns. */
export function bootstrapNote(b: BootstrapSettings, examples: number): string {
  return `Δ columns: the method's result minus the baseline's on the same ${examples} test examples (accuracy in percentage points, NLL in nats), with the ${Math.round(b.level * 100)}% interval of a paired bootstrap (${b.resamples} resamples of the test examples, seed ${b.seed}). A method beats the baseline only where its interval excludes 0; otherwise the difference is within noise.`;
}

function compareRows(
  methods: MethodName[],
  outcomes: Map<MethodName, TrainOutcome>,
  intervals: Map<MethodName, VersusBaseline>,
): CompareRow[] {
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
      ...(intervals.has(method) ? { vsBaseline: intervals.get(method) as VersusBaseline } : {}),
    });
  }
  return rows;
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
  const charts = runCharts(
    [...outcomes].map(([method, o]) => ({
      series: method,
      plan: plans.get(method) as MethodPlan,
      progress: o.progress,
      metrics: o.metrics,
    })),
  );
  const notes = [
    `Same data and budget of epochs for every method; independent runs (seeds ${settings.seed}, ${settings.seed + 1}, ${settings.seed + 2} for the baseline, SSE and SWA). FGE continues the baseline run from its collection start (the FGE paper pretrains with the standard schedule); SWA recomputes batch-norm statistics after averaging.`,
    ...[...plans].map(([method, plan]) => `${method}: ${plan.summary}.`),
    'Test metrics on the test split (the official one for Fashion-MNIST and MNIST). NLL in nats; ECE over 15 confidence bins.',
  ];
  if (curve) {
    const { chart, note } = curveSummary(curve);
    charts.push(chart);
    notes.push(note);
  }
  const facts: [string, string][] = [
    ['budget', `${settings.budget} epochs per method; methods ${settings.methods.join(', ')}`],
    ...runFacts(runFile).filter(([k]) => k !== 'training'),
    ['time', `${num(seconds, 1)} s in all`],
  ];
  return { title: `onerun compare — ${runFile.architecture}`, facts, table, charts, notes };
}
