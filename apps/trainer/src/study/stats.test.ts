import { describe, expect, it } from 'vitest';
import { halfWidth, mean, paired, sd, signTestP, tCdf, tCritical } from './stats.js';

describe('t distribution', () => {
  it('gives the two-sided critical values of the printed tables', () => {
    // Student's t table: df 1, 4, 9, 30 at 95%; df 4, 9 at 90%.
    expect(tCritical(1, 0.95)).toBeCloseTo(12.706, 3);
    expect(tCritical(4, 0.95)).toBeCloseTo(2.776, 3);
    expect(tCritical(9, 0.95)).toBeCloseTo(2.262, 3);
    expect(tCritical(30, 0.95)).toBeCloseTo(2.042, 3);
    expect(tCritical(4, 0.9)).toBeCloseTo(2.132, 3);
    expect(tCritical(9, 0.9)).toBeCloseTo(1.833, 3);
  });

  it('has the CDF of Cauchy at df = 1', () => {
    for (const t of [-3, -0.5, 0, 1, 4])
      expect(tCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 8);
  });
});

describe('paired statistics', () => {
  it('computes mean, SD and the t-interval by hand', () => {
    const ds = [-1, -2, -3];
    expect(mean(ds)).toBe(-2);
    expect(sd(ds)).toBeCloseTo(1, 12);
    // half-width = t(2, 95%) · 1 / √3 = 4.3027 / 1.7321
    expect(halfWidth(ds)).toBeCloseTo(4.302653 / Math.sqrt(3), 5);
    const s = paired([...ds, 0, 1]);
    expect(s.negative).toBe(3);
    expect(s.positive).toBe(1);
    expect(paired([0.3]).ci95.every(Number.isNaN)).toBe(true);
  });

  it('gives the exact sign-test tail', () => {
    expect(signTestP(10, 10)).toBeCloseTo(1 / 1024, 12);
    expect(signTestP(9, 10)).toBeCloseTo(11 / 1024, 12);
    expect(signTestP(8, 10)).toBeCloseTo(56 / 1024, 12);
    expect(signTestP(0, 10)).toBe(1);
  });
});
