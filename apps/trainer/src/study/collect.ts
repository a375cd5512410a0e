import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { ClassificationMetrics } from '@onerun/ensemble';
import { appDir } from '../app-dir.js';
import { backendDetails } from '../backend.js';
import type { CompareRow } from '../commands/compare.js';
import type { CurveResult } from '../evaluation/find-curve.js';
import type { RunMetrics } from '../evaluation/score-run.js';
import { readJsonIfExists } from '../run-folder/files.js';
import type { BackendRecord } from '../training/config.js';
import { modelTag, type StudyJob } from './jobs.js';
import type { StudyPlan } from './plan.js';
import { type JobRecord, recordPath } from './run-one.js';

/** One scored model of one job: the flat rows of `results.json`. */
export interface ResultRow {
  arm: string;
  model: string;
  trainExamples?: number;
  budget: number;
  seed: number;
  setting: string;
  method: string;
  variant: string;
  members: number;
  testError: number;
  nll: number;
  ece: number;
  brier: number;
  trainSeconds?: number;
  rank?: number;
  memberSeeds?: number[];
}

/** One path between two models: training loss and test error along the curve and the line. */
export interface CurveRow {
  model: string;
  budget: number;
  seed: number;
  setting?: string;
  ends: [string, string];
  t: number[];
  curve: { trainLoss: number[]; testError: number[]; barrier: number };
  line: { trainLoss: number[]; testError: number[]; barrier: number };
  seconds: number;
}

/** A finished job as `results.json` records it. */
export interface JobEntry {
  name: string;
  command: string[];
  commit: string;
  seconds: number;
  backend?: BackendRecord;
  trainSeconds?: Record<string, number>;
}

/** `results.json`: everything a study report is computed from. */
export interface StudyResults {
  study: string;
  collected: string;
  commits: string[];
  node: string;
  tfjs?: string;
  backends: string[];
  jobs: JobEntry[];
  rows: ResultRow[];
  curves: CurveRow[];
  /** Jobs of the plan not finished when collected. */
  pending?: string[];
  [extra: string]: unknown;
}

const read = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** Max along the path − mean of its two ends. */
const barrier = (loss: number[]) =>
  Math.max(...loss) - ((loss[0] as number) + (loss.at(-1) as number)) / 2;

/** `bn` at 1 budget, `budget-1.5` at 1.5 (and `stale-bn`, `stale-bn-1.5`; `bma`, `bma-1.5`). */
function swaVariant(base: 'budget' | 'stale-bn' | 'bma' | 'sgd', multiple: number): string {
  if (multiple === 1 && base !== 'sgd') return base === 'budget' ? 'bn' : base;
  return `${base}-${Number(multiple.toFixed(4))}`;
}

/** The rows of one finished compare job, read from its run folders. */
function compareRows(
  dir: string,
  job: StudyJob,
  base: Omit<ResultRow, 'method' | 'variant' | 'members' | 'testError' | 'nll' | 'ece' | 'brier'>,
): {
  rows: ResultRow[];
  curve?: CurveResult;
  backend?: BackendRecord;
  trainSeconds: Record<string, number>;
} {
  const summary = read<{
    rows: CompareRow[];
    curve?: CurveResult;
    backend?: BackendRecord;
    settings: { swaBudget?: number };
  }>(join(dir, 'metrics.json'));
  const rows: ResultRow[] = [];
  const row = (
    method: string,
    variant: string,
    members: number,
    m: ClassificationMetrics,
    extra: Partial<ResultRow> = {},
  ) =>
    rows.push({
      ...base,
      method,
      variant,
      members,
      testError: 1 - m.accuracy,
      nll: m.nll,
      ece: m.ece,
      brier: m.brier,
      ...extra,
    });
  const trainSeconds: Record<string, number> = {};
  for (const { method, trainSeconds: seconds } of summary.rows) {
    trainSeconds[method] = seconds;
    const metrics = read<RunMetrics>(join(dir, method, 'metrics.json'));
    const extra = { trainSeconds: seconds };
    if (method === 'baseline') row('baseline', 'final', 1, metrics.result, extra);
    if (method === 'sse' || method === 'fge') {
      const M = metrics.models;
      row(method, 'ensemble', M, metrics.result, extra);
      const last = (k: number) => metrics.lastK?.find((p) => p.k === k);
      const last1 = last(1);
      if (last1) row(method, 'last', 1, last1);
      const last3 = last(3);
      if (M >= 3 && last3) row(method, 'last-3', 3, last3);
      for (const p of metrics.sizeCurve) row(method, `first-${p.k}`, p.k, p);
      if (metrics.start) row(method, 'start', 1, metrics.start);
    }
    if (method === 'swa' && metrics.swa) {
      for (const at of metrics.swa.atEpochs ?? []) {
        const multiple = at.epoch / job.budget;
        row(
          'swa',
          swaVariant('budget', multiple),
          at.averaged,
          at.result,
          multiple === 1 ? extra : {},
        );
        row('swa', swaVariant('stale-bn', multiple), at.averaged, at.staleBatchNorm);
        if (at.swag)
          row('swag', swaVariant('bma', multiple), at.swag.samples, at.swag.metrics, {
            rank: at.swag.rank,
          });
      }
      const final = summary.settings.swaBudget ?? 1;
      row(
        'swa',
        swaVariant('budget', final),
        metrics.models,
        metrics.result,
        final === 1 ? extra : {},
      );
      row('swa', swaVariant('stale-bn', final), metrics.models, metrics.swa.staleBatchNorm);
      row('swa', swaVariant('sgd', final), 1, metrics.swa.sgd);
      if (metrics.swag)
        row('swag', swaVariant('bma', final), metrics.swag.samples, metrics.swag.metrics, {
          rank: metrics.swag.rank,
        });
    }
  }
  return {
    rows,
    ...(summary.curve ? { curve: summary.curve } : {}),
    ...(summary.backend ? { backend: summary.backend } : {}),
    trainSeconds,
  };
}

/** The tfjs the app runs on (its `@tensorflow/tfjs-core`). */
function tfjsVersion(): string | undefined {
  try {
    const require = createRequire(join(appDir(), 'package.json'));
    return read<{ version: string }>(require.resolve('@tensorflow/tfjs-core/package.json')).version;
  } catch {
    return undefined;
  }
}

/** `tensorflow (@tensorflow/tfjs-node, TensorFlow 2.21.0, 1 thread)`. */
export function backendText(b: BackendRecord): string {
  const details = backendDetails(b);
  return details ? `${b.backend} (${details})` : b.backend;
}

/**
 * Reads every finished job of `jobs` under `runs` into the flat rows of `results.json` (one per
 * scored model: baseline, SSE/FGE ensembles, their last and first-k members, SWA at each scored
 * budget with and without the BN recompute, SWAG, deep ensembles) and the curves.
 */
export async function collectResults(
  plan: StudyPlan,
  jobs: StudyJob[],
  runs: string,
): Promise<StudyResults> {
  const root = resolve(runs);
  const rows: ResultRow[] = [];
  const curves: CurveRow[] = [];
  const entries: JobEntry[] = [];
  const pending: string[] = [];
  for (const job of jobs) {
    const record = await readJsonIfExists<JobRecord>(recordPath(root, job.name));
    if (!record) {
      pending.push(job.name);
      continue;
    }
    const dir = join(root, job.name);
    const model = modelTag(job.model);
    const base = {
      arm: job.arm,
      model,
      ...(plan.data.trainLimit !== undefined ? { trainExamples: plan.data.trainLimit } : {}),
      budget: job.budget,
      seed: job.seed,
      setting: job.setting,
    };
    const entry: JobEntry = {
      name: job.name,
      command: record.command,
      commit: record.commit,
      seconds: record.seconds,
    };
    if (job.kind === 'deep-ensemble') {
      const out = read<{ runs: { ensemble: ClassificationMetrics; members: { seed?: number }[] } }>(
        join(dir, 'eval.json'),
      );
      const m = out.runs.ensemble;
      rows.push({
        ...base,
        method: 'deep-ensemble',
        variant: 'ensemble',
        members: out.runs.members.length,
        testError: 1 - m.accuracy,
        nll: m.nll,
        ece: m.ece,
        brier: m.brier,
        memberSeeds: job.needs.map((name) => Number(/-s(\d+)-/.exec(name)?.[1])),
      });
      entries.push(entry);
      continue;
    }
    const got = compareRows(dir, job, base);
    rows.push(...got.rows);
    if (got.backend) entry.backend = got.backend;
    entry.trainSeconds = got.trainSeconds;
    if (got.curve) {
      const c = got.curve;
      curves.push({
        model,
        budget: job.budget,
        seed: job.seed,
        setting: job.setting,
        ends: c.ends,
        t: c.curve.t,
        curve: {
          trainLoss: c.curve.trainLoss,
          testError: c.curve.testError,
          barrier: barrier(c.curve.trainLoss),
        },
        line: {
          trainLoss: c.line.trainLoss,
          testError: c.line.testError,
          barrier: barrier(c.line.trainLoss),
        },
        seconds: c.seconds,
      });
    }
    entries.push(entry);
  }
  const tfjs = tfjsVersion();
  return {
    study: plan.name,
    collected: new Date().toISOString(),
    commits: [...new Set(entries.map((j) => j.commit))],
    node: process.version,
    ...(tfjs ? { tfjs } : {}),
    backends: [...new Set(entries.flatMap((j) => (j.backend ? [backendText(j.backend)] : [])))],
    jobs: entries,
    rows,
    curves,
    ...(pending.length > 0 ? { pending } : {}),
  };
}
