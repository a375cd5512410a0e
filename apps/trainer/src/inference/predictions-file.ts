import type { FinalPrediction } from './predict-final.js';

/** The formats `onerun predict` writes. */
export const PREDICTION_FORMATS = ['csv', 'json'] as const;
/** One of `PREDICTION_FORMATS`. */
export type PredictionFormat = (typeof PREDICTION_FORMATS)[number];

/** What a predictions file says about where its numbers came from. */
export interface PredictionSource {
  run: string;
  method: string;
  /** `ensemble of 5`, `single model`, `SWA average of 3 (batch norm recomputed)`. */
  model: string;
  snapshots: string[];
  data: string;
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * CSV, one row per example: `index, predicted` (the class name), `p_<class>` for every class,
 * `entropy`, and for ensembles `mutual_information` and `disagreement`.
 */
export function predictionsCsv(pred: FinalPrediction, classes: string[]): string {
  const ensemble = pred.mutualInformation !== undefined;
  const header = [
    'index',
    'predicted',
    ...classes.map((c) => `p_${c}`),
    'entropy',
    ...(ensemble ? ['mutual_information', 'disagreement'] : []),
  ];
  const lines = [header.map(csvCell).join(',')];
  for (let i = 0; i < pred.count; i++) {
    const row = [String(i), csvCell(classes[pred.predicted[i]!]!)];
    for (let c = 0; c < pred.classes; c++)
      row.push(String(pred.probabilities[i * pred.classes + c]));
    row.push(String(pred.entropy[i]));
    if (ensemble) row.push(String(pred.mutualInformation?.[i]), String(pred.disagreement?.[i]));
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** JSON: the source and class names once, then one object per example. */
export function predictionsJson(
  pred: FinalPrediction,
  classes: string[],
  source: PredictionSource,
): string {
  const examples = Array.from({ length: pred.count }, (_, i) => ({
    index: i,
    predicted: classes[pred.predicted[i]!],
    probabilities: Array.from(
      pred.probabilities.subarray(i * pred.classes, (i + 1) * pred.classes),
    ),
    entropy: pred.entropy[i],
    ...(pred.mutualInformation
      ? { mutualInformation: pred.mutualInformation[i], disagreement: pred.disagreement?.[i] }
      : {}),
  }));
  return `${JSON.stringify({ format: 'onerun.predictions/1', ...source, members: pred.members, classes, predictions: examples }, null, 1)}\n`;
}
