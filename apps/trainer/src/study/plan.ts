import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnerunError } from '@onerun/core';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { appDir } from '../app-dir.js';
import { expandPlan } from './jobs.js';
import type { StudyPlan } from './plan-types.js';

export type {
  Metric,
  OptionValue,
  PlanClaim,
  PlanComparison,
  PlanData,
  PlanGroup,
  PlanOptions,
  Selector,
  StudyPlan,
  VerdictRule,
} from './plan-types.js';

/** One problem in a plan: where (a JSON pointer into the plan, `/` for the whole) and what. */
export interface PlanProblem {
  path: string;
  message: string;
}

/** A plan file that cannot be read or does not follow the schema; each problem names its path. */
export class StudyPlanError extends OnerunError {
  readonly file: string;
  readonly problems: readonly PlanProblem[];

  constructor(file: string, problems: PlanProblem[]) {
    super(
      'STUDY_PLAN',
      `${file}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')} (the plan format: apps/trainer/schema/study-plan.schema.json)`,
    );
    this.file = file;
    this.problems = problems;
  }
}

/** The published schema's location inside the app. */
export function planSchemaPath(): string {
  return join(appDir(), 'schema', 'study-plan.schema.json');
}

let compiled: ReturnType<Ajv2020['compile']> | undefined;

function validator() {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(planSchemaPath(), 'utf8'));
    compiled = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
  }
  return compiled;
}

/**
 * Ajv's errors as one line each. A failed `oneOf` reports every branch: its own error and the
 * `const` mismatches of the branches not meant (`test: must be equal to constant`) are dropped
 * when a more specific error at or below the same place says what to fix.
 */
function problemsOf(errors: ErrorObject[]): PlanProblem[] {
  const parent = (path: string) => path.slice(0, path.lastIndexOf('/'));
  const under = (e: ErrorObject, path: string) =>
    e.instancePath === path || e.instancePath.startsWith(`${path}/`);
  const specific = (e: ErrorObject) =>
    !['oneOf', 'anyOf', 'if', 'const', 'type'].includes(e.keyword);
  const useful = errors.filter((e) => {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if')
      return !errors.some((o) => o !== e && specific(o) && under(o, e.instancePath));
    if (e.keyword === 'const' || e.keyword === 'type')
      return !errors.some((o) => o !== e && specific(o) && under(o, parent(e.instancePath)));
    return true;
  });
  const seen = new Set<string>();
  const out: PlanProblem[] = [];
  for (const e of useful) {
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties')
      message = `unknown field '${String(e.params.additionalProperty)}'`;
    if (e.keyword === 'enum')
      message = `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    // The one `not` in the schema: options the study sets itself.
    if (e.keyword === 'not')
      message =
        'sets an option the study sets itself (out, seed, budget, methods, model, data, json, force, jobs)';
    const problem = { path: e.instancePath || '/', message };
    const key = `${problem.path} ${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(problem);
    }
  }
  return out;
}

/**
 * Checks what the schema cannot: a deep ensemble's `of` names a compare group with the baseline
 * method, claim ids are unique, and no two jobs share a name (a group id may repeat across
 * models and budgets).
 */
function crossCheck(plan: StudyPlan): PlanProblem[] {
  const problems: PlanProblem[] = [];
  plan.groups.forEach((g, i) => {
    if (g.kind !== 'deep-ensemble') return;
    const of = plan.groups.filter((o) => o.id === g.of && o.kind !== 'deep-ensemble');
    if (!of.some((o) => (o.methods ?? []).includes('baseline')))
      problems.push({
        path: `/groups/${i}/of`,
        message: `'${g.of}' is not a compare group with the baseline method (groups: ${[...new Set(plan.groups.map((o) => o.id))].join(', ')})`,
      });
  });
  const claimIds = new Set<string>();
  plan.claims.forEach((c, i) => {
    if (claimIds.has(c.id))
      problems.push({ path: `/claims/${i}/id`, message: `'${c.id}' is used twice` });
    claimIds.add(c.id);
  });
  if (problems.length > 0) return problems;
  const names = new Map<string, number>();
  for (const job of expandPlan(plan)) {
    const group = plan.groups.findIndex(
      (g) =>
        g.id === job.group &&
        (g.models ?? [plan.model]).includes(job.model) &&
        g.budgets.includes(job.budget),
    );
    if (names.has(job.name))
      problems.push({
        path: `/groups/${group}`,
        message: `job ${job.name} also comes from group ${names.get(job.name)}; give the groups different ids`,
      });
    names.set(job.name, group);
  }
  return problems;
}

/** Validates a parsed plan; `file` names it in errors. */
export function validatePlan(value: unknown, file = 'plan'): StudyPlan {
  const validate = validator();
  if (!validate(value)) throw new StudyPlanError(file, problemsOf(validate.errors ?? []));
  const plan = value as StudyPlan;
  const problems = crossCheck(plan);
  if (problems.length > 0) throw new StudyPlanError(file, problems);
  return plan;
}

/** Reads and validates a plan file. */
export function loadPlan(file: string): StudyPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new StudyPlanError(file, [
      {
        path: '/',
        message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      },
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StudyPlanError(file, [
      { path: '/', message: `is not JSON (${(error as Error).message})` },
    ]);
  }
  return validatePlan(value, file);
}
