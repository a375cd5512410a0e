import { InvalidArgumentError } from '@onerun/core';
import { describe, expect, it } from 'vitest';
import { normalizeWeights } from './combine.js';
import { checkBins, MAX_BINS } from './metrics.js';

describe('ensemble weights and metric bins at extreme values', () => {
  it('huge member weights are normalised without overflowing', () => {
    expect(normalizeWeights([1e308, 1e308], 2)).toEqual([0.5, 0.5]);
    expect(normalizeWeights([1e308, 0, 1e308 / 2], 3)).toEqual([2 / 3, 0, 1 / 3]);
    expect(normalizeWeights([2, 1, 1], 3)).toEqual([0.5, 0.25, 0.25]);
    expect(() => normalizeWeights([0, 0], 2)).toThrow(/at least one weight > 0/);
  });

  it('bins are bounded, so a huge count is an error instead of an abort', () => {
    expect(checkBins(MAX_BINS)).toBe(MAX_BINS);
    expect(() => checkBins(1e9)).toThrow(InvalidArgumentError);
    expect(() => checkBins(1e9)).toThrow(/bins.*an integer in \[1, 1000000\]/);
  });
});
