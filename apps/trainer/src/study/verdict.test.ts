import { describe, expect, it } from 'vitest';
import { paired } from './stats.js';
import { decide } from './verdict.js';

const judge = (ds: number[], rule: Parameters<typeof decide>[2]) =>
  decide(ds, paired(ds), rule).verdict;

describe('verdict rules', () => {
  const sup = { test: 'superiority', margin: 0.2 } as const;

  it('superiority: holds below 0, does not hold above −δ, else not resolvable', () => {
    // mean −0.5, SD 0.0816, t(3) = 3.182: 95% CI [−0.63, −0.37] < 0.
    expect(judge([-0.5, -0.6, -0.4, -0.5], sup)).toBe('holds');
    // mean 0.2, SD 0.1, t(2) = 4.303: [−0.048, 0.448], above −0.2.
    expect(judge([0.1, 0.2, 0.3], sup)).toBe('does not hold');
    // mean −2, SD 1: [−4.48, 0.48] straddles both.
    expect(judge([-1, -2, -3], sup)).toBe('not resolvable at this scale');
  });

  it('superiority with every seed: one seed above 0 keeps it open', () => {
    // mean −0.838, SD 0.487, t(4) = 2.776: [−1.44, −0.23] < 0, but one seed has d > 0.
    const ds = [-1, -1.2, -0.9, 0.01, -1.1];
    expect(judge(ds, { test: 'superiority', margin: 0 })).toBe('holds');
    expect(judge(ds, { test: 'superiority', margin: 0, everySeed: true })).toBe(
      'not resolvable at this scale',
    );
  });

  it('equivalence (TOST, 90%)', () => {
    // 90% CI [−0.60, −0.40] below −0.2.
    expect(judge([-0.5, -0.6, -0.4, -0.5], { test: 'equivalence', margin: 0.2 })).toBe('holds');
    // mean 0, SD 0.0381, t(4, 90%) = 2.132: [−0.036, 0.036] inside ±0.2; the 95% CI contains 0.
    expect(judge([0.05, -0.05, 0, 0.02, -0.02], { test: 'equivalence', margin: 0.2 })).toBe(
      'does not hold: equivalent within ±0.2',
    );
    // mean −0.1, SD 0.0158: inside ±0.2 and the 95% CI below 0.
    expect(judge([-0.1, -0.12, -0.08, -0.1, -0.1], { test: 'equivalence', margin: 0.2 })).toBe(
      'does not hold: equivalent within ±0.2 (a real gain, smaller than δ)',
    );
    expect(judge([-0.3, 0.3, -0.1, 0.2], { test: 'equivalence', margin: 0.2 })).toBe(
      'not resolvable at this scale',
    );
  });

  it('sign test: 9 of 10 holds at 5% (p = 11/1024), 8 of 10 does not (p = 56/1024)', () => {
    const with_ = (neg: number) => Array.from({ length: 10 }, (_, i) => (i < neg ? -0.1 : 0.1));
    expect(decide(with_(9), paired(with_(9)), { test: 'sign' })).toEqual({
      verdict: 'holds',
      p: 11 / 1024,
    });
    expect(judge(with_(8), { test: 'sign' })).toBe('not resolvable at this scale');
    expect(judge(with_(1), { test: 'sign' })).toBe('does not hold');
  });

  it('says when there is nothing to judge yet', () => {
    expect(judge([], sup)).toBe('not run yet');
    expect(judge([-0.3], sup)).toBe('in progress (n = 1)');
  });
});
