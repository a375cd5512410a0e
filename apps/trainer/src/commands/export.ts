import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { UsageError } from '../errors.js';
import { buildExportModel } from '../inference/export-model.js';
import { chooseMembers } from '../inference/final-members.js';
import { finalModelOf, loadFinalMember } from '../inference/final-model.js';
import { readRunClasses, readRunPreprocessing } from '../inference/run-data-info.js';
import { writeModelArtifacts } from '../inference/write-artifacts.js';

/** The file that marks a folder as written by `onerun export` (and says from what). */
export const EXPORT_RECORD = 'export.json';

/** What `onerun export` wrote. */
export interface ExportOutcome {
  dir: string;
  run: string;
  method: string;
  /** `ensemble of 5`, `single model`, `SWA average of 3 (batch norm recomputed)`. */
  model: string;
  snapshots: string[];
  inputShape: number[];
  classes: string[];
  files: string[];
}

/**
 * Checks `--to`: a new or empty folder, or one an earlier `onerun export` wrote (replaced only
 * with `force`). A folder holding anything else is never touched.
 */
async function checkTarget(dir: string, force: boolean): Promise<void> {
  if (!existsSync(dir)) return;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new UsageError(`--to ${dir} exists and is not a folder; choose a new or empty folder.`);
  }
  if (names.length === 0) return;
  if (!names.includes(EXPORT_RECORD)) {
    throw new UsageError(
      `--to ${dir} is not empty and was not written by onerun export (no ${EXPORT_RECORD}); choose a new or empty folder.`,
    );
  }
  if (!force) {
    throw new UsageError(
      `--to ${dir} holds an earlier export; pass --force to replace it, or choose another folder.`,
    );
  }
}

/**
 * `onerun export RUN --to DIR`: the finished run's final prediction as one tfjs LayersModel
 * (`model.json` + weight shards) taking raw inputs — the run's preprocessing is its first layer,
 * an ensemble's members are branches averaged by an `Average` layer, SWA's model is the average
 * with recomputed batch norm — plus `classes.json`, `preprocessing.json` (what the raw inputs
 * are) and `export.json`. Written to a temporary sibling folder and renamed into place.
 */
export async function exportRun(
  runDir: string,
  options: {
    to: string;
    force?: boolean;
    /** SWA runs fitted with `--swag-rank`: SWAG's draws as the branches, instead of the SWA model. */
    swag?: boolean;
    /** Where the run's training data is (SWAG's batch-norm recompute), if not where it trained. */
    dataDir?: string;
  },
): Promise<ExportOutcome> {
  const dir = resolve(options.to);
  await checkTarget(dir, Boolean(options.force));
  const final = await finalModelOf(runDir);
  const members: tf.LayersModel[] = [];
  let model: tf.LayersModel | undefined;
  let label = final.label;
  const tmp = join(dirname(dir), `.${basename(dir)}.onerun-${randomBytes(4).toString('hex')}.tmp`);
  try {
    const chosen = await chooseMembers(final, options);
    try {
      if (options.swag) {
        // Each draw lives only during its visit: keep a copy of its weights in a model of its own.
        await chosen.members.forEach(async (draw) => {
          const copy = await loadFinalMember(final, final.ids[0] as string);
          members.push(copy);
          copy.setWeights(draw.getWeights());
        });
      } else {
        for (const id of final.ids) members.push(await loadFinalMember(final, id));
      }
    } finally {
      chosen.dispose();
    }
    label = chosen.members.label;
    const first = members[0] as tf.LayersModel;
    const inputShape = first.inputs[0]?.shape.slice(1) as number[];
    const prep = await readRunPreprocessing(final.folder.dir, final.runFile, inputShape);
    const classes = await readRunClasses(
      final.folder.dir,
      final.runFile,
      first.outputs[0]?.shape[1] as number,
    );
    model = await buildExportModel(members, prep, `onerun_${final.runFile.config.method}`);
    const files = await writeModelArtifacts(model, tmp);
    const outcome: ExportOutcome = {
      dir,
      run: final.folder.dir,
      method: final.runFile.config.method,
      model: label,
      snapshots: final.ids,
      inputShape,
      classes,
      files: [...files, 'classes.json', 'preprocessing.json', EXPORT_RECORD],
    };
    await writeFile(join(tmp, 'classes.json'), `${JSON.stringify({ classes }, null, 2)}\n`);
    await writeFile(join(tmp, 'preprocessing.json'), `${JSON.stringify(prep, null, 2)}\n`);
    const { files: _files, dir: _dir, ...record } = outcome;
    await writeFile(
      join(tmp, EXPORT_RECORD),
      `${JSON.stringify({ format: 'onerun.export/1', ...record, createdAt: new Date().toISOString() }, null, 2)}\n`,
    );
    await moveIntoPlace(tmp, dir);
    return outcome;
  } finally {
    model?.dispose();
    for (const member of members) member.dispose();
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Renames the finished export over `dir` (empty, absent, or an earlier export being replaced). */
async function moveIntoPlace(tmp: string, dir: string): Promise<void> {
  if (!existsSync(dir)) {
    await rename(tmp, dir);
    return;
  }
  const old = `${tmp}.old`;
  await rename(dir, old);
  try {
    await rename(tmp, dir);
  } catch (error) {
    await rename(old, dir);
    throw error;
  }
  await rm(old, { recursive: true, force: true });
}
