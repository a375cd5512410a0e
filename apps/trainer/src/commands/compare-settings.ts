import type { MethodName } from '../training/config.js';
import type { MethodKnobs } from '../training/method-knobs.js';

/** Curve-finding settings of a comparison (`false` to skip the curve). */
export interface CompareCurveOptions {
  epochs: number;
  points: number;
  evalExamples: number;
}

/** What defines a comparison; stored in `compare.json`. */
export interface CompareSettings extends MethodKnobs {
  budget: number;
  /** A built-in model or the absolute path of a model file (`--model`). */
  model: string;
  /** A named data set or the absolute path of data (`--data`). */
  data: string;
  dataDir?: string;
  imageSize?: [number, number];
  testSplit?: number;
  labelColumn?: string;
  methods: MethodName[];
  seed: number;
  lr?: number;
  batchSize?: number;
  /** SSE cycles (FGE uses its own default unless `fgeCycles`). */
  cycles?: number;
  fgeCycles?: number;
  trainLimit?: number;
  testLimit?: number;
  valSplit?: number;
  /** SWA's own training length as a multiple of the budget (default 1). */
  swaBudget?: number;
  /** Smaller multiples of the budget at which the SWA model is also scored (the SWA paper's 1 and 1.25). */
  swaScoreBudgets?: number[];
  curve: CompareCurveOptions | false;
}
