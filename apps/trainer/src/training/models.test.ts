import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { buildModel } from './models.js';

describe('buildModel', () => {
  it('issue 28 defect 15: the CNN refuses images too small for its pools, naming the size', () => {
    for (const side of [1, 2, 3]) {
      const build = () =>
        buildModel('cnn', { inputShape: [side, side, 1], classes: 3, seed: 0 }).dispose();
      expect(build).toThrow(UsageError);
      expect(build).toThrow(`these are ${side}×${side}: use --model mlp`);
    }
    const smallest = buildModel('cnn', { inputShape: [4, 4, 1], classes: 3, seed: 0 });
    expect(smallest.outputs[0]?.shape).toEqual([null, 3]);
    smallest.dispose();
  });
});
