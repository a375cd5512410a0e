import type { JudgedDifference, VersusBaseline } from '../evaluation/versus-baseline.js';
import { natsInterval, ppInterval } from './format.js';

/** A method's result next to the baseline's. */
export interface Contender {
  name: string;
  vsBaseline: VersusBaseline;
}

/** "Who won, by how much, how sure": the headline and one line per method. */
export interface Verdicts {
  /** One sentence per metric (accuracy, NLL): the winner where its interval excludes 0. */
  headline: string[];
  /** `sse vs baseline: accuracy +0.95 pp [+0.40, +1.50], better; NLL …, within noise.` */
  details: string[];
}

const words = (d: JudgedDifference) =>
  d.verdict === 'within noise' ? 'within noise (the interval includes 0)' : `${d.verdict}`;

function headlineFor(
  contenders: Contender[],
  metric: 'accuracy' | 'nll',
  examples: number,
): string {
  const what = metric === 'accuracy' ? 'accuracy' : 'NLL';
  const text = metric === 'accuracy' ? ppInterval : natsInterval;
  const better = contenders
    .filter((c) => c.vsBaseline[metric].verdict === 'better')
    .sort((a, b) =>
      metric === 'accuracy'
        ? b.vsBaseline.accuracy.difference - a.vsBaseline.accuracy.difference
        : a.vsBaseline.nll.difference - b.vsBaseline.nll.difference,
    );
  const [winner, ...others] = better;
  if (!winner) {
    return `${what}: no method beats the baseline beyond noise (every 95% interval over the ${examples} test examples includes 0 or lies on the worse side).`;
  }
  const also =
    others.length > 0
      ? `; also better than the baseline: ${others.map((c) => `${c.name} (${text(c.vsBaseline[metric])})`).join(', ')}`
      : '';
  return `${what}: ${winner.name} wins, ${text(winner.vsBaseline[metric])} vs the baseline (95% interval excludes 0)${also}.`;
}

/**
 * The plain-words answer of a comparison: per metric the method that beats the baseline by the
 * most where its interval excludes 0, "no method beats the baseline beyond noise" otherwise, and
 * each method's two differences with their intervals and what they say.
 */
export function verdicts(contenders: Contender[]): Verdicts {
  if (contenders.length === 0) return { headline: [], details: [] };
  const examples = contenders[0]!.vsBaseline.examples;
  return {
    headline: [
      headlineFor(contenders, 'accuracy', examples),
      headlineFor(contenders, 'nll', examples),
    ],
    details: contenders.map(
      ({ name, vsBaseline: vs }) =>
        `${name} vs baseline: accuracy ${ppInterval(vs.accuracy)}, ${words(vs.accuracy)}; NLL ${natsInterval(vs.nll)}, ${words(vs.nll)}.`,
    ),
  };
}
