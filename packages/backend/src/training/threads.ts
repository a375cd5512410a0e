import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '@onerun/core';

/** TensorFlow's two CPU thread pools (native backend). */
export interface NativeThreads {
  /** Threads one op may use (matrix products, convolutions): `TF_NUM_INTRAOP_THREADS`. */
  intraOp: number;
  /** Ops run side by side: `TF_NUM_INTEROP_THREADS` (tfjs-node runs one op at a time). */
  interOp: number;
}

/**
 * The thread pools used when neither the caller nor the environment says otherwise: one intra-op
 * thread per core (TensorFlow's own default) and one inter-op thread, since tfjs-node executes
 * its ops one after another and TensorFlow's default of one inter-op thread per core only
 * parks idle threads.
 */
export function defaultNativeThreads(): NativeThreads {
  return { intraOp: availableParallelism(), interOp: 1 };
}

const ENV = { intraOp: 'TF_NUM_INTRAOP_THREADS', interOp: 'TF_NUM_INTEROP_THREADS' } as const;

function fromEnv(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError(name, text, 'a whole number of threads (0: the default)');
  }
  // 0 is TensorFlow's own "choose for me".
  return value === 0 ? undefined : value;
}

/**
 * Sets `TF_NUM_INTRAOP_THREADS` and `TF_NUM_INTEROP_THREADS`, which TensorFlow reads once, when
 * it creates its thread pools (the first native op): the caller's choice first, then what the
 * environment already says, then {@link defaultNativeThreads}. Returns what is in force.
 */
export function applyNativeThreads(requested: Partial<NativeThreads> = {}): NativeThreads {
  const defaults = defaultNativeThreads();
  const threads = { ...defaults };
  for (const key of ['intraOp', 'interOp'] as const) {
    const asked = requested[key];
    if (asked !== undefined && (!Number.isInteger(asked) || asked < 1)) {
      throw new InvalidArgumentError(`nativeThreads.${key}`, asked, 'a whole number >= 1');
    }
    threads[key] = asked ?? fromEnv(ENV[key]) ?? defaults[key];
    process.env[ENV[key]] = String(threads[key]);
  }
  return threads;
}

/**
 * The pools of a TensorFlow that is already loaded, from the environment it read (TensorFlow's
 * own default, one thread per core for both, where a variable was unset or 0).
 */
export function loadedNativeThreads(): NativeThreads {
  const cores = availableParallelism();
  return {
    intraOp: fromEnv(ENV.intraOp) ?? cores,
    interOp: fromEnv(ENV.interOp) ?? cores,
  };
}
