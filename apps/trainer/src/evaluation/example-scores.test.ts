import { classificationMetrics } from '@onerun/ensemble';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { exampleScores } from './example-scores.js';
import { versusBaseline } from './versus-baseline.js';

describe('exampleScores', () => {
  it('scores each example; the means are the accuracy and NLL of @onerun/ensemble', async () => {
    const probs = tf.tensor2d([
      [0.7, 0.2, 0.1],
      [0.4, 0.4, 0.2], // a tie: the lowest index (0) is the prediction
      [0.1, 0.1, 0.8],
      [0, 1, 0], // p(true) = 0: clamped to 1e-12
    ]);
    const labels = Int32Array.from([0, 1, 2, 0]);
    const s = await exampleScores(probs, labels);
    expect(s.correct).toEqual([1, 0, 1, 0]);
    expect(s.nll[0]).toBeCloseTo(-Math.log(0.7), 6);
    expect(s.nll[1]).toBeCloseTo(-Math.log(0.4), 6);
    expect(s.nll[3]).toBeCloseTo(-Math.log(1e-12), 6);
    const m = await classificationMetrics(probs, labels);
    expect(s.correct.reduce((a, b) => a + b, 0) / 4).toBeCloseTo(m.accuracy, 12);
    expect(s.nll.reduce((a, b) => a + b, 0) / 4).toBeCloseTo(m.nll, 5);
    probs.dispose();
  });
});

describe('versusBaseline', () => {
  it('judges accuracy up and NLL down as better; identical results as within noise', () => {
    const base = { correct: [1, 0, 0, 1, 0, 1], nll: [0.2, 1.5, 1.2, 0.3, 2.0, 0.1] };
    const same = versusBaseline(base, base);
    expect(same.accuracy).toMatchObject({
      difference: 0,
      lower: 0,
      upper: 0,
      verdict: 'within noise',
    });
    expect(same.nll).toMatchObject({ difference: 0, lower: 0, upper: 0, verdict: 'within noise' });
    const all = { correct: [1, 1, 1, 1, 1, 1], nll: base.nll.map((x) => x - 0.1) };
    const vs = versusBaseline(all, base);
    expect(vs.accuracy.difference).toBeCloseTo(0.5, 12);
    expect(vs.accuracy.verdict).toBe('better');
    // Every example's NLL is 0.1 lower: the interval is the point -0.1.
    expect(vs.nll.lower).toBeCloseTo(-0.1, 12);
    expect(vs.nll.upper).toBeCloseTo(-0.1, 12);
    expect(vs.nll.verdict).toBe('better');
    expect(vs.examples).toBe(6);
  });
});
