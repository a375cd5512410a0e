import { availableParallelism } from 'node:os';
import { UsageError } from './errors.js';

/** Who set TensorFlow's intra-op pool of a run: `--threads`, the environment, or the model. */
export type ThreadsSource = 'flag' | 'environment' | 'model';

/** TensorFlow's intra-op pool for a run (native backends), and who chose it. */
export interface IntraOpChoice {
  threads: number;
  source: ThreadsSource;
}

/**
 * Models whose training time goes to mid-sized matrix products: on native TensorFlow they lose
 * more to handing each op across cores than a second core gains (the reference MLP trains
 * 1.25–1.5× faster with one intra-op thread than with two on a 2-core machine; bench/README.md,
 * "Threads"), so they get one intra-op thread. Every other model is taken to be conv-bound
 * (convolutions split well over cores: the reference CNN trains 1.3–1.5× faster with two) and
 * gets one thread per core, TensorFlow's default.
 */
const DENSE_BOUND_MODELS: ReadonlySet<string> = new Set(['mlp']);

/** The intra-op pool that trains `model` fastest: 1 for dense-bound models, else one per core. */
export function modelIntraOpThreads(model: string, cores = availableParallelism()): number {
  return DENSE_BOUND_MODELS.has(model) ? 1 : cores;
}

/** A `TF_NUM_INTRAOP_THREADS` that sets a pool (unset, empty and TensorFlow's "0 = default" do not). */
function threadsFromEnv(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '' || Number(text) === 0) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new UsageError(
      `TF_NUM_INTRAOP_THREADS='${text}' is not a number of threads; expected a whole number ≥ 0.`,
    );
  }
  return value;
}

/**
 * The intra-op pool of a run: `--threads` first, then a `TF_NUM_INTRAOP_THREADS` the user set,
 * then {@link modelIntraOpThreads} for the model being trained (none known, as for `eval` and
 * `curve`: one thread per core).
 */
export function chooseIntraOpThreads(given: {
  flag?: number;
  env?: string;
  model?: string;
  cores?: number;
}): IntraOpChoice {
  const cores = given.cores ?? availableParallelism();
  if (given.flag !== undefined) return { threads: given.flag, source: 'flag' };
  const fromEnv = threadsFromEnv(given.env);
  if (fromEnv !== undefined) return { threads: fromEnv, source: 'environment' };
  return {
    threads: given.model !== undefined ? modelIntraOpThreads(given.model, cores) : cores,
    source: 'model',
  };
}
