import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { RunFolderError, UsageError } from '../errors.js';
import type { CurveResult } from '../evaluation/find-curve.js';
import type { RunMetrics } from '../evaluation/score-run.js';
import { curveSummary, resultsTable, runCharts, runFacts } from '../report/content.js';
import { num } from '../report/format.js';
import { type Table, writeReport } from '../report/html.js';
import { csvRun, metricsCsv } from '../report/metrics-csv.js';
import { readJsonIfExists, writeFileAtomic, writeJson } from '../run-folder/files.js';
import { RunFolder } from '../run-folder/folder.js';
import { prepareOwnOut } from '../run-folder/provenance.js';
import type { RunFile, RunProgress } from '../run-folder/records.js';
import { type MethodPlan, planMethod } from '../training/plan.js';

/** A finished run found by `onerun report`. */
export interface FoundRun {
  dir: string;
  runFile: RunFile;
  progress: RunProgress;
  metrics: RunMetrics;
  plan: MethodPlan;
  /** Its name in the table and the legends: the method, with the seed where that is ambiguous. */
  name: string;
}

/** What `onerun report` produced. */
export interface MergeOutcome {
  dir: string;
  runs: {
    name: string;
    dir: string;
    method: string;
    seed: number;
    metrics: RunMetrics['result'];
  }[];
  table: Table;
  report: string;
  /** Path of the merged `metrics.csv`. */
  metricsCsv: string;
  /** What the reader should know (runs of different backends merged). */
  warnings?: string[];
  curve?: CurveResult;
}

/** Files `onerun report` writes into its folder (and replaces with --force). */
const MERGE_ENTRIES = ['report.html', 'charts', 'metrics.json', 'metrics.csv'];

async function readFinishedRun(dir: string): Promise<Omit<FoundRun, 'name'> | undefined> {
  const folder = new RunFolder(dir);
  const runFile = await folder.readRunFile();
  if (!runFile) return undefined;
  const progress = await folder.readProgress();
  const metrics = await readJsonIfExists<RunMetrics>(folder.path('metrics'));
  if (progress?.status === 'done' && !metrics) {
    throw new RunFolderError(
      `${folder.dir} holds a finished ${runFile.config.method} run whose ${folder.path('metrics')} is missing; rerun its train command (onerun train --out ${folder.dir}) to score its stored models again (nothing is retrained).`,
    );
  }
  if (progress?.status !== 'done' || !metrics) {
    throw new RunFolderError(
      `${folder.dir} holds an unfinished ${runFile.config.method} run; finish it (rerun the same command) before reporting on it.`,
    );
  }
  return {
    dir: folder.dir,
    runFile,
    progress,
    metrics,
    plan: planMethod(runFile.config, runFile.trainSize),
  };
}

/** The runs in `dir`: a run folder, or a comparison folder with one run folder per method. */
async function runsIn(
  dir: string,
): Promise<{ runs: Omit<FoundRun, 'name'>[]; curve?: CurveResult }> {
  const run = await readFinishedRun(dir);
  if (run) return { runs: [run] };
  const compareFile = await readJsonIfExists<{ settings?: { methods?: string[] } }>(
    join(dir, 'compare.json'),
  );
  const methods = compareFile?.settings?.methods;
  if (!Array.isArray(methods)) {
    throw new RunFolderError(
      `${dir} is neither an onerun run folder (config.json) nor a comparison (compare.json); pass folders made by 'onerun train' or 'onerun compare'.`,
    );
  }
  const runs: Omit<FoundRun, 'name'>[] = [];
  for (const method of methods) {
    const found = await readFinishedRun(join(dir, method));
    if (!found) {
      throw new RunFolderError(
        `${dir} is a comparison without a finished ${method} run; rerun its compare command to finish it.`,
      );
    }
    runs.push(found);
  }
  const curve = await readJsonIfExists<CurveResult>(join(dir, 'curve', 'result.json'));
  return { runs, ...(curve ? { curve } : {}) };
}

/** Runs can share one table only on the same data, architecture and budget. */
function assertComparable(runs: Omit<FoundRun, 'name'>[]): void {
  const first = runs[0]!;
  const facts = (r: Omit<FoundRun, 'name'>) => ({
    architecture: r.runFile.architecture,
    data: r.runFile.config.data,
    'training examples': r.runFile.trainSize,
    'test examples': r.runFile.testSize,
    // SWA trained past the budget (--swa-budget) belongs to the comparison of its budget.
    'budget (epochs)': r.runFile.config.budget ?? r.runFile.config.epochs,
    'batch size': r.runFile.config.batchSize,
  });
  const want = facts(first);
  for (const run of runs.slice(1)) {
    const have = facts(run);
    for (const key of Object.keys(want) as (keyof typeof want)[]) {
      if (want[key] !== have[key]) {
        throw new UsageError(
          `Cannot report ${first.dir} and ${run.dir} together: ${key} ${String(want[key])} vs ${String(have[key])}; pass runs of one data set, model and budget.`,
        );
      }
    }
  }
}

/** Names each run by its method, adding the seed where one method appears more than once. */
function nameRuns(runs: Omit<FoundRun, 'name'>[]): FoundRun[] {
  const count = new Map<string, number>();
  for (const r of runs)
    count.set(r.runFile.config.method, (count.get(r.runFile.config.method) ?? 0) + 1);
  const named = runs.map((r) => {
    const { method, seed } = r.runFile.config;
    return { ...r, name: (count.get(method) ?? 0) > 1 ? `${method} seed ${seed}` : method };
  });
  const seen = new Map<string, string>();
  for (const r of named) {
    const other = seen.get(r.name);
    if (other !== undefined) {
      throw new UsageError(
        `${other} and ${r.dir} are both ${r.name}: the same run twice? Pass each run once.`,
      );
    }
    seen.set(r.name, r.dir);
  }
  return named;
}

/**
 * Runs trained on different backends (wasm, native TensorFlow, cpu) give the same kind of
 * numbers but not comparable times: say which ran where.
 */
export function backendMix(runs: FoundRun[]): string | undefined {
  const by = new Map<string, string[]>();
  for (const r of runs) {
    const backend = r.runFile.backend.backend;
    by.set(backend, [...(by.get(backend) ?? []), r.name]);
  }
  if (by.size < 2) return undefined;
  const which = [...by].map(([backend, names]) => `${backend}: ${names.join(', ')}`).join('; ');
  return `runs of different backends merged (${which}): their training times are not comparable.`;
}

/**
 * `onerun report DIR… --out OUT`: one table and one HTML report over finished runs made by
 * separate processes or machines (run folders of `onerun train`, or folders of `onerun compare`,
 * e.g. one `compare --methods X` per job). Refuses runs of different data, architecture or budget.
 */
export async function mergeRuns(options: {
  dirs: string[];
  out: string;
  force: boolean;
  /** Notes for the user (runs of different backends merged). */
  log?: (line: string) => void;
}): Promise<MergeOutcome> {
  if (options.dirs.length === 0) {
    throw new UsageError('No folders to report on; pass run or comparison folders.');
  }
  const found: Omit<FoundRun, 'name'>[] = [];
  let curve: CurveResult | undefined;
  for (const dir of options.dirs.map((d) => resolve(d))) {
    if (!existsSync(dir)) throw new RunFolderError(`${dir} does not exist.`);
    const inDir = await runsIn(dir);
    found.push(...inDir.runs);
    curve ??= inDir.curve;
  }
  assertComparable(found);
  const runs = nameRuns(found);
  const out = resolve(options.out);
  for (const run of runs) {
    if (run.dir === out || out.startsWith(`${run.dir}${sep}`)) {
      throw new UsageError(
        `--out ${out} is inside the run ${run.dir} reported on; onerun report never writes into a run folder: choose another --out (an empty or new folder).`,
      );
    }
  }
  await prepareOwnOut(out, 'report', MERGE_ENTRIES, options.force);
  const table = resultsTable(
    runs.map((r) => ({ name: r.name, metrics: r.metrics, trainSeconds: r.progress.trainSeconds })),
  );
  const charts = runCharts(
    runs.map((r) => ({ series: r.name, plan: r.plan, progress: r.progress, metrics: r.metrics })),
  );
  const mixed = backendMix(runs);
  if (mixed) options.log?.(`onerun: ${mixed}`);
  const notes = [
    ...(mixed ? [mixed] : []),
    `${runs.length} runs from ${options.dirs.length} folders: ${runs.map((r) => `${r.name} (${r.dir})`).join('; ')}.`,
    'Test metrics on the test split (the official one for Fashion-MNIST and MNIST). NLL in nats; ECE over 15 confidence bins.',
  ];
  if (curve) {
    const summary = curveSummary(curve);
    charts.push(summary.chart);
    notes.push(summary.note);
  }
  const first = runs[0]!;
  const report = await writeReport(out, {
    title: `onerun report — ${first.runFile.architecture}`,
    facts: [
      ['budget', `${first.runFile.config.epochs} epochs per run`],
      ...runFacts(first.runFile).filter(([k]) => k !== 'training' && k !== 'backend'),
      ['backends', [...new Set(runs.map((r) => r.runFile.backend.backend))].join(', ')],
      [
        'training',
        `${num(
          runs.reduce((s, r) => s + r.progress.trainSeconds, 0),
          1,
        )} s in all`,
      ],
    ],
    table,
    charts,
    notes,
  });
  const summary = runs.map((r) => ({
    name: r.name,
    dir: r.dir,
    method: r.runFile.config.method,
    seed: r.runFile.config.seed,
    metrics: r.metrics.result,
  }));
  await writeJson(join(out, 'metrics.json'), { runs: summary, ...(curve ? { curve } : {}) });
  const csv = join(out, 'metrics.csv');
  await writeFileAtomic(
    csv,
    metricsCsv(runs.map((r) => csvRun(r.runFile, r.plan, r.progress, r.metrics))),
  );
  return {
    dir: out,
    runs: summary,
    table,
    report,
    metricsCsv: csv,
    ...(mixed ? { warnings: [mixed] } : {}),
    ...(curve ? { curve } : {}),
  };
}
