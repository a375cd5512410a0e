import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appDir } from '../app-dir.js';
import { UsageError } from '../errors.js';
import { writeJson } from '../run-folder/files.js';
import { expandPlan, modelTag } from './jobs.js';
import { type StudyPlan, validatePlan } from './plan.js';

/** The Results v2 plan shipped with the app (`studies/results-v2.json`). */
export function resultsV2PlanPath(): string {
  return join(appDir(), 'studies', 'results-v2.json');
}

/**
 * Writes the Results v2 plan to `file` as a start: with `model`, every group trains that model
 * (the CNN's groups, which would repeat the MLP's, are dropped) and the claims select it; with
 * `data`/`dataDir`, the data. Refuses to overwrite a file unless `force`.
 */
export async function initPlan(
  file: string,
  options: { model?: string; data?: string; dataDir?: string; force?: boolean },
): Promise<{ file: string; jobs: number; claims: number }> {
  if (existsSync(file) && !options.force)
    throw new UsageError(`${file} exists; pass --force to overwrite it, or choose another file`);
  const plan = JSON.parse(readFileSync(resultsV2PlanPath(), 'utf8')) as StudyPlan;
  plan.$schema = join(appDir(), 'schema', 'study-plan.schema.json');
  if (options.data !== undefined || options.dataDir !== undefined) {
    plan.data = {
      name: options.data ?? plan.data.name,
      ...(options.dataDir !== undefined ? { dir: options.dataDir } : {}),
      ...(plan.data.trainLimit !== undefined && options.data === undefined
        ? { trainLimit: plan.data.trainLimit }
        : {}),
    };
    if (options.data !== undefined) delete plan.data.trainLimit;
  }
  if (options.model !== undefined) {
    const model = options.model;
    const tag = modelTag(model);
    plan.model = model;
    plan.groups = plan.groups.filter((g) => !(g.models ?? []).includes('cnn'));
    for (const g of plan.groups) g.models = [model];
    plan.claims = plan.claims.filter((c) => c.method.model !== 'cnn');
    for (const c of plan.claims) {
      c.method.model = tag;
      c.comparator.model = tag;
    }
    for (const c of plan.comparisons ?? []) {
      c.method.model = tag;
      c.comparator.model = tag;
    }
  }
  validatePlan(plan, file);
  await writeJson(file, plan);
  return { file, jobs: expandPlan(plan).length, claims: plan.claims.length };
}
