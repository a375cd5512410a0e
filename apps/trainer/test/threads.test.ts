import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { chooseIntraOpThreads, modelIntraOpThreads } from '../src/threads.js';

describe("TensorFlow's intra-op pool per run", () => {
  it('gives the dense-bound MLP one thread and every other model one per core', () => {
    expect(modelIntraOpThreads('mlp', 8)).toBe(1);
    expect(modelIntraOpThreads('cnn', 8)).toBe(8);
    expect(modelIntraOpThreads('preresnet', 4)).toBe(4);
  });

  it('lets --threads beat TF_NUM_INTRAOP_THREADS, and that beat the model', () => {
    expect(chooseIntraOpThreads({ flag: 3, env: '5', model: 'mlp', cores: 8 })).toEqual({
      threads: 3,
      source: 'flag',
    });
    expect(chooseIntraOpThreads({ env: '5', model: 'mlp', cores: 8 })).toEqual({
      threads: 5,
      source: 'environment',
    });
    expect(chooseIntraOpThreads({ model: 'mlp', cores: 8 })).toEqual({
      threads: 1,
      source: 'model',
    });
    // No model known (eval, curve) and TensorFlow's "0 = its default": one thread per core.
    expect(chooseIntraOpThreads({ env: '0', cores: 8 })).toEqual({ threads: 8, source: 'model' });
    expect(chooseIntraOpThreads({ env: ' ', model: 'cnn', cores: 2 })).toEqual({
      threads: 2,
      source: 'model',
    });
  });

  it('rejects a TF_NUM_INTRAOP_THREADS that is not a number of threads, naming it', () => {
    expect(() => chooseIntraOpThreads({ env: 'two' })).toThrow(UsageError);
    expect(() => chooseIntraOpThreads({ env: '-1' })).toThrow(/TF_NUM_INTRAOP_THREADS='-1'/);
    expect(() => chooseIntraOpThreads({ env: '1.5' })).toThrow(/whole number/);
  });
});
