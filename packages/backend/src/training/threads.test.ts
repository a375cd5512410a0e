import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '@onerun/core';
import { afterEach, describe, expect, it } from 'vitest';
import { applyNativeThreads, loadedNativeThreads } from './threads.js';

const saved = {
  intra: process.env.TF_NUM_INTRAOP_THREADS,
  inter: process.env.TF_NUM_INTEROP_THREADS,
};
function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

describe('applyNativeThreads', () => {
  afterEach(() => {
    restore('TF_NUM_INTRAOP_THREADS', saved.intra);
    restore('TF_NUM_INTEROP_THREADS', saved.inter);
  });

  it('defaults to one intra-op thread per core and one inter-op thread, and exports them', () => {
    delete process.env.TF_NUM_INTRAOP_THREADS;
    delete process.env.TF_NUM_INTEROP_THREADS;
    expect(applyNativeThreads()).toEqual({ intraOp: availableParallelism(), interOp: 1 });
    expect(process.env.TF_NUM_INTRAOP_THREADS).toBe(String(availableParallelism()));
    expect(process.env.TF_NUM_INTEROP_THREADS).toBe('1');
  });

  it('the caller wins over the environment, the environment over the default', () => {
    process.env.TF_NUM_INTRAOP_THREADS = '3';
    process.env.TF_NUM_INTEROP_THREADS = '2';
    expect(applyNativeThreads({ interOp: 4 })).toEqual({ intraOp: 3, interOp: 4 });
    expect(process.env.TF_NUM_INTEROP_THREADS).toBe('4');
  });

  it('rejects a count that is not a whole number (0 in the environment means the default)', () => {
    expect(() => applyNativeThreads({ intraOp: 0 })).toThrow(InvalidArgumentError);
    process.env.TF_NUM_INTRAOP_THREADS = '0'; // TensorFlow's "choose for me": the default
    expect(applyNativeThreads().intraOp).toBe(availableParallelism());
    process.env.TF_NUM_INTRAOP_THREADS = 'two';
    expect(() => applyNativeThreads()).toThrow(/TF_NUM_INTRAOP_THREADS: got "two"/);
  });

  it('reports what a TensorFlow already loaded read from the environment', () => {
    process.env.TF_NUM_INTRAOP_THREADS = '1';
    delete process.env.TF_NUM_INTEROP_THREADS;
    expect(loadedNativeThreads()).toEqual({ intraOp: 1, interOp: availableParallelism() });
  });
});
