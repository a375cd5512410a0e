import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { loadInputs } from '../data/inputs.js';
import { normaliseInto } from '../data/preprocessing.js';
import { UsageError } from '../errors.js';
import { chooseMembers } from '../inference/final-members.js';
import { finalModelOf, loadFinalMember } from '../inference/final-model.js';
import { type FinalPrediction, predictFinal } from '../inference/predict-final.js';
import {
  PREDICTION_FORMATS,
  type PredictionFormat,
  type PredictionSource,
  predictionsCsv,
  predictionsJson,
} from '../inference/predictions-file.js';
import { readRunClasses, readRunPreprocessing } from '../inference/run-data-info.js';
import { writeFileAtomic } from '../run-folder/files.js';

/** Options of `onerun predict`. */
export interface PredictOptions {
  /** New examples (raw, as the data stores them). */
  data: string;
  /** File to write; its extension (`.csv`, `.json`) picks the format unless `format` is given. */
  out?: string;
  format?: PredictionFormat;
  /** Replace an existing `out`. */
  force?: boolean;
  batchSize?: number;
  /** SWA runs fitted with `--swag-rank`: SWAG's model average instead of the SWA model. */
  swag?: boolean;
  /** Where the run's training data is (SWAG's batch-norm recompute), if not where it trained. */
  dataDir?: string;
}

/** What `onerun predict` did. */
export interface PredictOutcome {
  source: PredictionSource;
  classes: string[];
  prediction: FinalPrediction;
  format: PredictionFormat;
  /** The file written, or `undefined` when the text goes to stdout. */
  out?: string;
  text: string;
}

function formatOf(options: PredictOptions): PredictionFormat {
  if (options.format !== undefined) {
    if (!(PREDICTION_FORMATS as readonly string[]).includes(options.format)) {
      throw new UsageError(
        `--format ${options.format}: expected one of ${PREDICTION_FORMATS.join(', ')}.`,
      );
    }
    return options.format;
  }
  if (options.out === undefined) return 'csv';
  const ext = extname(options.out).slice(1).toLowerCase();
  if ((PREDICTION_FORMATS as readonly string[]).includes(ext)) return ext as PredictionFormat;
  throw new UsageError(
    `--out ${options.out}: cannot tell the format from '${extname(options.out) || 'no extension'}'; name a .csv or .json file, or pass --format csv|json.`,
  );
}

/**
 * `onerun predict RUN --data PATH`: the finished run's final prediction (ensemble mean, SWA's
 * average with recomputed batch norm, the baseline's model) on new examples, put through the
 * run's preprocessing, with class names and per-example uncertainty. Every check (run, inputs,
 * output path) happens before anything is written; the file is written atomically.
 */
export async function predictRun(dir: string, options: PredictOptions): Promise<PredictOutcome> {
  const format = formatOf(options);
  const out = options.out === undefined ? undefined : resolve(options.out);
  if (out !== undefined && existsSync(out) && !options.force) {
    throw new UsageError(
      `--out ${out} exists; pass --force to replace it, or choose another file.`,
    );
  }
  const final = await finalModelOf(dir);
  const first = await loadFinalMember(final, final.ids[0] as string);
  const inputShape = first.inputs[0]?.shape.slice(1) as number[];
  const classCount = first.outputs[0]?.shape[1] as number;
  first.dispose();
  const prep = await readRunPreprocessing(final.folder.dir, final.runFile, inputShape);
  const classes = await readRunClasses(final.folder.dir, final.runFile, classCount);
  const raw = await loadInputs(options.data, prep);
  const per = raw.shape.reduce((a, b) => a * b, 1);
  const all = Int32Array.from({ length: raw.count }, (_, i) => i);
  const values = normaliseInto(raw.raw, per, all, prep, new Float32Array(raw.count * per));
  const chosen = await chooseMembers(final, options);
  let prediction: FinalPrediction;
  try {
    prediction = await predictFinal(
      chosen.members,
      values,
      inputShape,
      raw.count,
      options.batchSize,
    );
  } finally {
    chosen.dispose();
  }
  const source: PredictionSource = {
    run: final.folder.dir,
    method: final.runFile.config.method,
    model: chosen.members.label,
    snapshots: final.ids,
    data: resolve(options.data),
  };
  const text =
    format === 'csv'
      ? predictionsCsv(prediction, classes, raw)
      : predictionsJson(prediction, classes, source, raw);
  if (out !== undefined) await writeFileAtomic(out, text);
  return { source, classes, prediction, format, ...(out ? { out } : {}), text };
}
