import type { Split } from '../data/load.js';
import type { ExampleScores } from '../evaluation/example-scores.js';
import { DEFAULT_RESAMPLES } from '../evaluation/paired-bootstrap.js';
import { evaluateRun } from '../evaluation/score-run.js';
import { type VersusBaseline, versusBaseline } from '../evaluation/versus-baseline.js';
import { RunFolder } from '../run-folder/folder.js';
import { readTestScores, writeTestScores } from '../run-folder/test-scores.js';
import type { MethodName } from '../training/config.js';
import type { TrainOutcome } from './train.js';

/** How a comparison's intervals are drawn (kept in `metrics.json`). */
export interface BootstrapSettings {
  resamples: number;
  level: number;
  seed: number;
}

/** The bootstrap a comparison with seed `seed` uses: 2,000 resamples, 95% intervals. */
export function compareBootstrap(seed: number): BootstrapSettings {
  return { resamples: DEFAULT_RESAMPLES, level: 0.95, seed };
}

/** A finished run's per-example test scores: kept in its folder, or scored again (older folders). */
async function scoresOf(outcome: TrainOutcome, test: Split): Promise<ExampleScores> {
  const folder = new RunFolder(outcome.dir);
  const kept = await readTestScores(folder);
  if (kept) return kept;
  const { examples } = await evaluateRun(outcome.config.method, folder.members(), test);
  await writeTestScores(folder, examples);
  return examples;
}

/**
 * Every method's result against the baseline's, paired over the test examples: the accuracy and
 * NLL differences with bootstrap intervals. Empty without a baseline.
 */
export async function intervalsAgainstBaseline(
  outcomes: Map<MethodName, TrainOutcome>,
  test: Split,
  bootstrap: BootstrapSettings,
): Promise<Map<MethodName, VersusBaseline>> {
  const intervals = new Map<MethodName, VersusBaseline>();
  const baseline = outcomes.get('baseline');
  if (!baseline) return intervals;
  const reference = await scoresOf(baseline, test);
  for (const [method, outcome] of outcomes) {
    if (method === 'baseline') continue;
    intervals.set(method, versusBaseline(await scoresOf(outcome, test), reference, bootstrap));
  }
  return intervals;
}
