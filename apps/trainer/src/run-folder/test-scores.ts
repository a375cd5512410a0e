import { RunFolderError } from '../errors.js';
import type { ExampleScores } from '../evaluation/example-scores.js';
import { readJsonIfExists, writeFileAtomic } from './files.js';
import type { RunFolder } from './folder.js';

/** `test-scores.json`: the run's result scored on each test example, in test-set order. */
interface TestScoresFile extends ExampleScores {
  onerunTestScores: 1;
  testSize: number;
}

/** Writes the run's per-example test scores (one line, compact: it holds every example). */
export async function writeTestScores(folder: RunFolder, scores: ExampleScores): Promise<void> {
  const file: TestScoresFile = {
    onerunTestScores: 1,
    testSize: scores.correct.length,
    correct: scores.correct,
    nll: scores.nll,
  };
  await writeFileAtomic(folder.path('testScores'), `${JSON.stringify(file)}\n`);
}

/** The run's per-example test scores, or `undefined` for a folder written before they were kept. */
export async function readTestScores(folder: RunFolder): Promise<ExampleScores | undefined> {
  const file = await readJsonIfExists<TestScoresFile>(folder.path('testScores'));
  if (!file) return undefined;
  const n = file.testSize;
  if (file.onerunTestScores !== 1 || file.correct?.length !== n || file.nll?.length !== n) {
    throw new RunFolderError(
      `${folder.path('testScores')} is damaged (expected ${n} scores in correct and nll); delete it and rerun onerun compare, which scores the stored models again.`,
    );
  }
  return { correct: file.correct, nll: file.nll };
}
