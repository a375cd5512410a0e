import type { ExampleScores } from './example-scores.js';
import {
  type BootstrapOptions,
  bootstrapMeans,
  type DifferenceInterval,
  differences,
  type Verdict,
  verdictOf,
} from './paired-bootstrap.js';

/** A difference against the baseline with its interval and what the interval says. */
export interface JudgedDifference extends DifferenceInterval {
  verdict: Verdict;
}

/**
 * A method's result minus the baseline's on the same test examples: accuracy (fraction, higher is
 * better) and NLL (nats, lower is better), each with its paired bootstrap interval.
 */
export interface VersusBaseline {
  accuracy: JudgedDifference;
  nll: JudgedDifference;
  /** Test examples the intervals resample. */
  examples: number;
}

/**
 * Paired bootstrap of `method − baseline` over the test examples (both columns from the same
 * resamples). The two must be scores on the same test examples in the same order.
 */
export function versusBaseline(
  method: ExampleScores,
  baseline: ExampleScores,
  options: BootstrapOptions = {},
): VersusBaseline {
  const [accuracy, nll] = bootstrapMeans(
    [differences(method.correct, baseline.correct), differences(method.nll, baseline.nll)],
    options,
  ) as [DifferenceInterval, DifferenceInterval];
  return {
    accuracy: { ...accuracy, verdict: verdictOf(accuracy, true) },
    nll: { ...nll, verdict: verdictOf(nll, false) },
    examples: method.correct.length,
  };
}
