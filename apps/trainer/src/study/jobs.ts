import { basename, extname } from 'node:path';
import type { OptionValue, PlanGroup, PlanOptions, StudyPlan } from './plan-types.js';

/** One job of a study: a `compare` or a deep ensemble (`eval` of other jobs' baselines). */
export interface StudyJob {
  /** Position in the plan's job list (the Slurm array index). */
  index: number;
  /** `<model>-b<budget>-s<seed>-<group>`: the run folder's name under the runs folder. */
  name: string;
  kind: 'compare' | 'deep-ensemble';
  group: string;
  setting: string;
  arm: string;
  model: string;
  budget: number;
  seed: number;
  /** `onerun` arguments, without `--out` (compare) or the member folders (deep ensemble). */
  args: string[];
  /** Deep ensemble: the jobs whose `baseline` run folders are its members, in order. */
  needs: string[];
}

/** `mlp` → `mlp`; `models/my-net.json` → `my-net`: the model's part of a job name. */
export function modelTag(model: string): string {
  const stem = basename(model, extname(model));
  return stem.replace(/[^a-zA-Z0-9.-]+/g, '-').toLowerCase() || 'model';
}

/** The seeds of a group, in order. */
export function seedsOf(group: PlanGroup): number[] {
  if (Array.isArray(group.seeds)) return group.seeds;
  const { count, start = 0, step = 10 } = group.seeds;
  return Array.from({ length: count }, (_, k) => start + k * step);
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `{ batchSize: 128, curve: false, swaBudget: [1, 1.5] }` → `--batch-size 128 --no-curve --swa-budget 1,1.5`. */
export function optionArgs(options: PlanOptions): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(options) as [string, OptionValue][]) {
    if (value === true) args.push(`--${kebab(key)}`);
    else if (value === false) args.push(`--no-${kebab(key)}`);
    else args.push(`--${kebab(key)}`, Array.isArray(value) ? value.join(',') : String(value));
  }
  return args;
}

function jobName(model: string, budget: number, seed: number, group: string): string {
  return `${modelTag(model)}-b${budget}-s${seed}-${group}`;
}

/**
 * The plan's jobs, group by group, then by model, budget and seed; a deep-ensemble group after
 * the groups it draws from. Each compare job's arguments: model and data, the plan's options,
 * the group's, the group's for this budget (later ones win), the seed, budget and methods, and
 * `--jobs 1` (the study runs jobs side by side; each compare trains its methods one after
 * another).
 */
export function expandPlan(plan: StudyPlan): StudyJob[] {
  const ordered = [
    ...plan.groups.filter((g) => g.kind !== 'deep-ensemble'),
    ...plan.groups.filter((g) => g.kind === 'deep-ensemble'),
  ];
  const jobs: Omit<StudyJob, 'index'>[] = [];
  for (const group of ordered) {
    const models = group.models ?? [plan.model];
    for (const model of models) {
      for (const budget of group.budgets) {
        if (group.kind === 'deep-ensemble') {
          jobs.push(...deepEnsembleJobs(plan, group, model, budget));
          continue;
        }
        const seeds = seedsOf(group);
        seeds.forEach((seed, k) => {
          const options: PlanOptions = {
            ...plan.options,
            ...group.options,
            ...group.byBudget?.[String(budget)],
          };
          const curve =
            group.curve && k < (group.curve.seeds ?? seeds.length) ? group.curve : undefined;
          jobs.push({
            name: jobName(model, budget, seed, group.id),
            kind: 'compare',
            group: group.id,
            setting: group.setting ?? 'primary',
            arm: group.arm ?? 'primary',
            model,
            budget,
            seed,
            args: [
              'compare',
              '--model',
              model,
              ...dataArgs(plan),
              ...optionArgs(options),
              '--budget',
              String(budget),
              '--seed',
              String(seed),
              '--methods',
              (group.methods ?? []).join(','),
              ...(curve
                ? [
                    ...(curve.epochs ? ['--curve-epochs', String(curve.epochs)] : []),
                    ...(curve.points ? ['--points', String(curve.points)] : []),
                  ]
                : ['--no-curve']),
              '--jobs',
              '1',
            ],
            needs: [],
          });
        });
      }
    }
  }
  return jobs.map((job, index) => ({ ...job, index }));
}

function dataArgs(plan: StudyPlan): string[] {
  const { name, dir, trainLimit, testLimit } = plan.data;
  return [
    '--data',
    name,
    ...(dir !== undefined ? ['--data-dir', dir] : []),
    ...(trainLimit !== undefined ? ['--train-limit', String(trainLimit)] : []),
    ...(testLimit !== undefined ? ['--test-limit', String(testLimit)] : []),
  ];
}

/**
 * The deep ensembles of group `of`'s baselines: the ensemble of seed k holds the seeds k…k+M−1
 * (cyclically). With no more seeds than members every window holds the same runs: one ensemble.
 */
function deepEnsembleJobs(
  plan: StudyPlan,
  group: PlanGroup,
  model: string,
  budget: number,
): Omit<StudyJob, 'index'>[] {
  const of = plan.groups.find(
    (g) =>
      g.id === group.of &&
      g.kind !== 'deep-ensemble' &&
      g.budgets.includes(budget) &&
      (g.models ?? [plan.model]).includes(model),
  );
  if (!of) return [];
  const all = seedsOf(of);
  const size = group.members as number;
  const windows = all.length > size ? all : all.slice(0, 1);
  return windows.map((seed, k) => {
    const members = Array.from(
      { length: Math.min(size, all.length) },
      (_, j) => all[(k + j) % all.length] as number,
    );
    return {
      name: jobName(model, budget, seed, group.id),
      kind: 'deep-ensemble' as const,
      group: group.id,
      setting: group.setting ?? 'primary',
      arm: group.arm ?? 'primary',
      model,
      budget,
      seed,
      args: [
        'eval',
        ...(plan.data.dir !== undefined ? ['--data-dir', plan.data.dir] : []),
        ...optionArgs(backendOnly(plan.options)),
      ],
      needs: members.map((s) => jobName(model, budget, s, of.id)),
    };
  });
}

/** `eval` takes the common options only: the backend. */
function backendOnly(options: PlanOptions | undefined): PlanOptions {
  return options?.backend !== undefined ? { backend: options.backend } : {};
}
