import { readWeights, writeWeights } from '@onerun/core';
import { MissingBatchNormDataError } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bezierCurve, straightLine } from './curve.js';
import { evaluatePath, summarizePath } from './evaluate-path.js';
import { flatValues, mlp, spirals, trainedEnds } from './test-utils.js';

describe('summarizePath', () => {
  it('finds the highest values and their rise above the ends’ interpolation', () => {
    const s = summarizePath([0, 0.25, 0.5, 0.75, 1], [1, 2, 3, 2.5, 2], [0.1, 0.1, 0.4, 0.2, 0.3]);
    expect(s.maxLoss).toBe(3);
    expect(s.maxLossT).toBe(0.5);
    expect(s.lossBarrier).toBeCloseTo(3 - 1.5, 12);
    expect(s.maxError).toBe(0.4);
    expect(s.errorBarrier).toBeCloseTo(0.4 - 0.2, 12);
    // A straight series has no barrier.
    expect(summarizePath([0, 0.5, 1], [1, 1.5, 2], [0, 0, 0]).lossBarrier).toBeCloseTo(0, 12);
  });
});

describe('evaluatePath', () => {
  let data: { xs: tf.Tensor2D; ys: tf.Tensor2D };
  let ends: tf.Tensor[][];

  beforeAll(async () => {
    data = spirals(240, 7);
    ends = await trainedEnds(data, [1, 2], 30);
  });
  afterAll(() => {
    tf.dispose([data.xs, data.ys, ...ends.flat()]);
  });

  it('measures the straight line: ends match the end models, a barrier in between', async () => {
    const model = mlp(3);
    const line = straightLine(ends[0]!, ends[1]!);
    const before = await flatValues(readWeights(model, 'all'));
    const tensors = tf.memory().numTensors;
    const result = await evaluatePath(model, line, data, { points: 5, batchSize: 100 });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(result.t).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(await flatValues(readWeights(model, 'all'))).toEqual(before);
    // Independent measurement at the ends with tfjs's own evaluate and a hand-counted error.
    for (const [i, end] of [ends[0]!, ends[1]!].entries()) {
      writeWeights(model, end, 'trainable');
      const loss = model.evaluate(data.xs, data.ys) as tf.Scalar;
      const pred = model.predict(data.xs) as tf.Tensor;
      const wrong = tf.sum(tf.notEqual(tf.argMax(pred, -1), tf.argMax(data.ys, -1)));
      const index = i === 0 ? 0 : 4;
      expect(result.loss[index]).toBeCloseTo(loss.dataSync()[0]!, 4);
      expect(result.error[index]).toBeCloseTo(wrong.dataSync()[0]! / 240, 6);
      tf.dispose([loss, pred, wrong]);
    }
    expect(result.summary.maxLossT).toBeGreaterThan(0);
    expect(result.summary.maxLossT).toBeLessThan(1);
    expect(result.summary.lossBarrier).toBeGreaterThan(0.3);
    expect(result.name).toBe('straight line');
    line.dispose();
    model.dispose();
  });

  it('recomputes batch-norm statistics at every point, then restores the model', async () => {
    const model = mlp(3, { batchNorm: true });
    const a = readWeights(mlp(4, { batchNorm: true }), 'trainable');
    const b = readWeights(mlp(5, { batchNorm: true }), 'trainable');
    const curve = bezierCurve(a, b);
    const before = await flatValues(readWeights(model, 'all'));
    const bnData = data.xs.slice(0, 120);
    const seenMeans: number[][] = [];
    const expectedMeans: number[][] = [];
    const result = await evaluatePath(model, curve, data, {
      at: [0, 0.3, 1],
      bnData,
      onPoint: async (point, _i, m) => {
        // BN follows the first dense layer (tanh): its moving mean must be that layer's mean
        // output over bnData at φ(t).
        const bn = m.layers[1] as unknown as { movingMean: { read(): tf.Tensor } };
        seenMeans.push([...(await bn.movingMean.read().data())]);
        const w = curve.weightsAt(point.t);
        const mean = tf.tidy(() =>
          tf.mean(tf.tanh(tf.add(tf.matMul(bnData, w[0] as tf.Tensor2D), w[1]!)), 0),
        );
        expectedMeans.push([...(await mean.data())]);
        tf.dispose([mean, ...w]);
      },
    });
    expect(result.points).toHaveLength(3);
    seenMeans.forEach((m, i) => {
      expect(m).toEqual(expectedMeans[i]!.map((v) => expect.closeTo(v, 4)));
    });
    expect(seenMeans[0]).not.toEqual(seenMeans[1]);
    expect(seenMeans[1]).not.toEqual(seenMeans[2]);
    expect(await flatValues(readWeights(model, 'all'))).toEqual(before);
    tf.dispose([...a, ...b, bnData]);
    curve.dispose();
    model.dispose();
  });

  it('asks for bnData on a batch-norm model unless stale statistics are allowed', async () => {
    const model = mlp(3, { batchNorm: true });
    const w = readWeights(model, 'trainable');
    const line = straightLine(w, w);
    await expect(evaluatePath(model, line, data, { points: 2 })).rejects.toThrow(
      MissingBatchNormDataError,
    );
    const stale = await evaluatePath(model, line, data, { points: 2, allowStaleBatchNorm: true });
    expect(stale.loss[0]).toBeCloseTo(stale.loss[1]!, 6);
    tf.dispose(w);
    line.dispose();
    model.dispose();
  });
});
