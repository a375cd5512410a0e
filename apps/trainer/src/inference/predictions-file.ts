import type { FinalPrediction } from './predict-final.js';

/** What the inputs say about each example: a name (file, CSV line, array index) and maybe a label. */
export interface ExampleNames {
  names: string[];
  labels?: string[];
}

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

/**
 * A number as written: 8 significant digits, more than the float32 the members compute in
 * carry (so nothing measurable is lost) without float64's noise digits.
 */
function written(value: number): number {
  return Number(value.toPrecision(8));
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * CSV, one row per example: `index, predicted` (the class name), `p_<class>` for every class,
 * `entropy`, and for ensembles `mutual_information` and `disagreement`.
 */
export function predictionsCsv(
  pred: FinalPrediction,
  classes: string[],
  examples: ExampleNames,
): string {
  const ensemble = pred.mutualInformation !== undefined;
  const header = [
    'index',
    'name',
    ...(examples.labels ? ['label'] : []),
    'predicted',
    ...classes.map((c) => `p_${c}`),
    'entropy',
    ...(ensemble ? ['mutual_information', 'disagreement'] : []),
  ];
  const lines = [header.map(csvCell).join(',')];
  for (let i = 0; i < pred.count; i++) {
    const row = [
      String(i),
      csvCell(examples.names[i] ?? ''),
      ...(examples.labels ? [csvCell(examples.labels[i] ?? '')] : []),
      csvCell(classes[pred.predicted[i]!]!),
    ];
    for (let c = 0; c < pred.classes; c++)
      row.push(String(written(pred.probabilities[i * pred.classes + c] as number)));
    row.push(String(written(pred.entropy[i] as number)));
    if (ensemble) {
      row.push(
        String(written(pred.mutualInformation?.[i] as number)),
        String(written(pred.disagreement?.[i] as number)),
      );
    }
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** JSON: the source and class names once, then one object per example, one per line. */
export function predictionsJson(
  pred: FinalPrediction,
  classes: string[],
  source: PredictionSource,
  examples: ExampleNames,
): string {
  const head = { format: 'onerun.predictions/1', ...source, members: pred.members, classes };
  const lines = Array.from({ length: pred.count }, (_, i) =>
    JSON.stringify({
      index: i,
      name: examples.names[i],
      ...(examples.labels ? { label: examples.labels[i] } : {}),
      predicted: classes[pred.predicted[i] as number],
      probabilities: Array.from(
        pred.probabilities.subarray(i * pred.classes, (i + 1) * pred.classes),
        written,
      ),
      entropy: written(pred.entropy[i] as number),
      ...(pred.mutualInformation
        ? {
            mutualInformation: written(pred.mutualInformation[i] as number),
            disagreement: written(pred.disagreement?.[i] as number),
          }
        : {}),
    }),
  );
  const text = JSON.stringify(head, null, 2);
  return `${text.slice(0, -2)},
  "predictions": [
    ${lines.join(',\n    ')}
  ]
}
`;
}
