import { InvalidArgumentError, requireInRange, requireInteger } from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import { type Labels, labelIndices } from './labels.js';

/**
 * Probabilities are clamped to at least this before a logarithm (NLL, the `'geometric'` rule), so
 * a member that gives the true class exactly 0 costs `−log(1e-12) ≈ 27.63` nats instead of ∞.
 * It is far below anything float32 softmax outputs round to in practice, so it changes no
 * finite result that matters.
 */
export const PROBABILITY_EPSILON = 1e-12;

/** The most confidence bins `evaluate` accepts. */
export const MAX_BINS = 1_000_000;

/** Equal-width confidence bins of ECE and the reliability diagram (Guo et al. 2017). */
export const DEFAULT_BINS = 15;

/** The four numbers `evaluate` reports for the ensemble and for each member. */
export interface ClassificationMetrics {
  /** Fraction of examples whose most probable class (lowest index on ties) is the true one. */
  accuracy: number;
  /** Mean over examples of `−log max(p(true class), epsilon)`, in nats. */
  nll: number;
  /** Expected calibration error over equal-width confidence bins. */
  ece: number;
  /** Mean over examples of `Σ_classes (p − onehot)²` (range 0…2). */
  brier: number;
}

/** One confidence bin of a reliability diagram. */
export interface ReliabilityBin {
  /** The bin holds confidences in `(lower, upper]` (the first bin also holds 0). */
  lower: number;
  upper: number;
  /** Examples whose confidence (max probability) falls in the bin. */
  count: number;
  /** Mean confidence of those examples; `null` for an empty bin. */
  confidence: number | null;
  /** Fraction of those examples classified correctly; `null` for an empty bin. */
  accuracy: number | null;
}

/** Options of the calibration metrics. */
export interface BinOptions {
  /** Number of equal-width confidence bins over [0, 1]; default 15. */
  bins?: number;
}

/** Options of the log-likelihood. */
export interface EpsilonOptions {
  /** Lower clamp for `p(true class)` before the log; default {@link PROBABILITY_EPSILON}. */
  epsilon?: number;
}

/** A probability matrix read back from a tensor: `n` rows of `classes` values, row-major. */
interface ProbabilityMatrix {
  data: Float32Array;
  n: number;
  classes: number;
}

// Sums of float32 probabilities can land a few ulps above 1.
const ONE_SLACK = 1e-5;

/** Reads and checks a `[n, classes]` tensor of probabilities (values finite and in [0, 1]). */
export async function readProbabilities(
  probs: tf.Tensor,
  argument = 'probs',
): Promise<ProbabilityMatrix> {
  if (!(probs instanceof tf.Tensor) || probs.rank !== 2) {
    throw new InvalidArgumentError(argument, probs, 'a 2-D tensor [examples, classes]');
  }
  const [n = 0, classes = 0] = probs.shape;
  if (n < 1 || classes < 1) {
    throw new InvalidArgumentError(argument, probs, 'at least one example and one class');
  }
  const data = Float32Array.from(await probs.data());
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!(v >= 0 && v <= 1 + ONE_SLACK)) {
      const row = Math.floor(i / classes);
      throw new InvalidArgumentError(
        `${argument}[${row}][${i % classes}]`,
        v,
        'a probability in [0, 1] (pass probabilities, not logits)',
      );
    }
  }
  return { data, n, classes };
}

/** Index of each row's largest value; the lowest index wins ties, as `tf.argMax` does. */
export function rowArgmax(m: ProbabilityMatrix): Int32Array {
  const out = new Int32Array(m.n);
  for (let i = 0; i < m.n; i++) {
    const base = i * m.classes;
    let best = 0;
    let bestValue = m.data[base] as number;
    for (let c = 1; c < m.classes; c++) {
      const v = m.data[base + c] as number;
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

function rowMax(m: ProbabilityMatrix, i: number): number {
  let best = m.data[i * m.classes] as number;
  for (let c = 1; c < m.classes; c++) best = Math.max(best, m.data[i * m.classes + c] as number);
  return best;
}

/** Accuracy of `m` against class indices `y`. */
function accuracyOf(m: ProbabilityMatrix, y: Int32Array): number {
  const predicted = rowArgmax(m);
  let correct = 0;
  for (let i = 0; i < m.n; i++) if (predicted[i] === y[i]) correct++;
  return correct / m.n;
}

/** Mean negative log-likelihood of `m` against class indices `y`. */
function nllOf(m: ProbabilityMatrix, y: Int32Array, epsilon = PROBABILITY_EPSILON): number {
  let sum = 0;
  for (let i = 0; i < m.n; i++) {
    const p = m.data[i * m.classes + (y[i] as number)] as number;
    sum -= Math.log(Math.max(p, epsilon));
  }
  return sum / m.n;
}

/** Mean over examples of the squared distance between the row and the one-hot label. */
function brierOf(m: ProbabilityMatrix, y: Int32Array): number {
  let sum = 0;
  for (let i = 0; i < m.n; i++) {
    for (let c = 0; c < m.classes; c++) {
      const d = (m.data[i * m.classes + c] as number) - (c === y[i] ? 1 : 0);
      sum += d * d;
    }
  }
  return sum / m.n;
}

/** Bin of a confidence among `bins` right-closed intervals `((m)/bins, (m+1)/bins]`. */
export function binOf(confidence: number, bins: number): number {
  let m = Math.min(bins - 1, Math.max(0, Math.ceil(confidence * bins) - 1));
  // confidence * bins may round across an edge; compare with the edges themselves.
  while (m > 0 && confidence <= m / bins) m--;
  while (m < bins - 1 && confidence > (m + 1) / bins) m++;
  return m;
}

/** Reliability-diagram bins of `m` against class indices `y`. */
function reliabilityOf(m: ProbabilityMatrix, y: Int32Array, bins: number): ReliabilityBin[] {
  const count = new Float64Array(bins);
  const confidence = new Float64Array(bins);
  const correct = new Float64Array(bins);
  const predicted = rowArgmax(m);
  for (let i = 0; i < m.n; i++) {
    const conf = rowMax(m, i);
    const b = binOf(conf, bins);
    count[b] = (count[b] as number) + 1;
    confidence[b] = (confidence[b] as number) + conf;
    if (predicted[i] === y[i]) correct[b] = (correct[b] as number) + 1;
  }
  return Array.from({ length: bins }, (_, b) => {
    const k = count[b] as number;
    return {
      lower: b / bins,
      upper: (b + 1) / bins,
      count: k,
      confidence: k === 0 ? null : (confidence[b] as number) / k,
      accuracy: k === 0 ? null : (correct[b] as number) / k,
    };
  });
}

/** ECE from reliability bins: `Σ_bins (count/n)·|accuracy − confidence|`; empty bins add 0. */
function eceFromBins(bins: readonly ReliabilityBin[], n: number): number {
  let sum = 0;
  for (const bin of bins) {
    if (bin.count > 0) {
      sum += (bin.count / n) * Math.abs((bin.accuracy as number) - (bin.confidence as number));
    }
  }
  return sum;
}

/** All four metrics of `m` against class indices `y`. */
export function metricsOf(
  m: ProbabilityMatrix,
  y: Int32Array,
  bins: number,
  epsilon: number,
): ClassificationMetrics {
  return {
    accuracy: accuracyOf(m, y),
    nll: nllOf(m, y, epsilon),
    ece: eceFromBins(reliabilityOf(m, y, bins), m.n),
    brier: brierOf(m, y),
  };
}

/** Checks `bins` (an integer in [1, `MAX_BINS`]). */
export function checkBins(bins: unknown): number {
  const n = requireInteger('bins', bins, 1);
  // Each bin is a row of the reliability diagram: a million is far past any useful diagram,
  // and far below what would exhaust memory (1e9 bins aborted the process).
  if (n > MAX_BINS) throw new InvalidArgumentError('bins', bins, `an integer in [1, ${MAX_BINS}]`);
  return n;
}

/** Checks `epsilon` (a number in (0, 1)). */
export function checkEpsilon(epsilon: unknown): number {
  const e = requireInRange('epsilon', epsilon, 0, 1);
  if (e === 0 || e === 1) throw new InvalidArgumentError('epsilon', epsilon, 'a number in (0, 1)');
  return e;
}

async function read(probs: tf.Tensor, labels: Labels) {
  const m = await readProbabilities(probs);
  const y = await labelIndices(labels, m.n, m.classes);
  return { m, y };
}

/**
 * Fraction of examples whose most probable class is the true one (ties go to the lowest class
 * index, as `tf.argMax` breaks them).
 * @param probs `[n, classes]` probabilities (any model's or ensemble's output).
 * @param labels class indices or one-hot rows.
 */
export async function accuracy(probs: tf.Tensor, labels: Labels): Promise<number> {
  const { m, y } = await read(probs, labels);
  return accuracyOf(m, y);
}

/**
 * Mean negative log-likelihood `mean_i −log max(p_i(y_i), epsilon)` in nats; `epsilon` defaults
 * to {@link PROBABILITY_EPSILON}.
 */
export async function nll(
  probs: tf.Tensor,
  labels: Labels,
  options: EpsilonOptions = {},
): Promise<number> {
  const epsilon = checkEpsilon(options.epsilon ?? PROBABILITY_EPSILON);
  const { m, y } = await read(probs, labels);
  return nllOf(m, y, epsilon);
}

/**
 * Expected calibration error (Guo et al. 2017): confidences (max probability) are split into
 * `bins` equal-width right-closed bins `((b−1)/B, b/B]`; ECE = `Σ_b (|B_b|/n)·|acc(B_b) − conf(B_b)|`.
 * Empty bins contribute nothing.
 */
export async function ece(
  probs: tf.Tensor,
  labels: Labels,
  options: BinOptions = {},
): Promise<number> {
  const bins = checkBins(options.bins ?? DEFAULT_BINS);
  const { m, y } = await read(probs, labels);
  return eceFromBins(reliabilityOf(m, y, bins), m.n);
}

/** Brier score: mean over examples of `Σ_classes (p − onehot)²` (0 is perfect, 2 the worst). */
export async function brier(probs: tf.Tensor, labels: Labels): Promise<number> {
  const { m, y } = await read(probs, labels);
  return brierOf(m, y);
}

/**
 * The bins behind ECE, for plotting a reliability diagram: per bin its edges, example count,
 * mean confidence and accuracy (`null` where the bin is empty).
 */
export async function reliabilityDiagram(
  probs: tf.Tensor,
  labels: Labels,
  options: BinOptions = {},
): Promise<ReliabilityBin[]> {
  const bins = checkBins(options.bins ?? DEFAULT_BINS);
  const { m, y } = await read(probs, labels);
  return reliabilityOf(m, y, bins);
}

/** Accuracy, NLL, ECE and Brier score of one probability tensor, reading it back once. */
export async function classificationMetrics(
  probs: tf.Tensor,
  labels: Labels,
  options: BinOptions & EpsilonOptions = {},
): Promise<ClassificationMetrics> {
  const bins = checkBins(options.bins ?? DEFAULT_BINS);
  const epsilon = checkEpsilon(options.epsilon ?? PROBABILITY_EPSILON);
  const { m, y } = await read(probs, labels);
  return metricsOf(m, y, bins, epsilon);
}

/** Mean over pairs of predictions of the fraction of examples whose classes differ. */
export function disagreementOf(predictions: readonly Int32Array[]): number {
  const k = predictions.length;
  if (k < 2) return 0;
  let sum = 0;
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const pa = predictions[a] as Int32Array;
      const pb = predictions[b] as Int32Array;
      let differ = 0;
      for (let i = 0; i < pa.length; i++) if (pa[i] !== pb[i]) differ++;
      sum += differ / pa.length;
    }
  }
  return sum / ((k * (k - 1)) / 2);
}

/**
 * Member disagreement: the mean over all pairs of members of the fraction of examples whose
 * argmax classes differ. 0 for fewer than two members (no pair can disagree).
 * @param memberProbs one `[n, classes]` probability tensor per member, all the same shape.
 */
export async function disagreement(memberProbs: readonly tf.Tensor[]): Promise<number> {
  const predictions: Int32Array[] = [];
  let shape: number[] | undefined;
  for (const [i, probs] of memberProbs.entries()) {
    const m = await readProbabilities(probs, `memberProbs[${i}]`);
    if (shape && (shape[0] !== m.n || shape[1] !== m.classes)) {
      throw new InvalidArgumentError(
        `memberProbs[${i}]`,
        probs,
        `shape [${shape.join(', ')}] like memberProbs[0]`,
      );
    }
    shape = [m.n, m.classes];
    predictions.push(rowArgmax(m));
  }
  return disagreementOf(predictions);
}
