import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMBINE_RULES, type CombineRule } from './combine.js';
import { Ensemble } from './ensemble.js';
import { StackedMembers } from './stacked.js';
import { mlp as seededMlp } from './test-fixtures.js';

// Members of one architecture run as one stacked model in Ensemble.predict; the ground truth here
// is each member's own model.predict, combined by the rules' formulas in plain JS.

let before: number;
let models: tf.LayersModel[] = [];
beforeEach(() => {
  before = tf.memory().numTensors;
  models = [];
});
afterEach(() => {
  for (const m of models) m.dispose();
  expect(tf.memory().numTensors).toBe(before);
});

/** Random non-trivial values for every weight (moving statistics positive). */
function randomize(model: tf.LayersModel, seed: number): void {
  for (const [i, layer] of model.layers.entries()) {
    const values = layer.weights.map((w, j) => {
      const s = seed * 1000 + i * 10 + j;
      return w.name.includes('variance')
        ? tf.randomUniform(w.shape as number[], 0.5, 2, 'float32', s)
        : tf.randomNormal(w.shape as number[], 0, 0.5, 'float32', s);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

/** An MLP with BN after a linear Dense (folded), after an activation (not folded), and dropout. */
function mlp(seed: number, head: 'softmax' | 'linear' = 'softmax'): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [3, 4] }),
      tf.layers.dense({ units: 16, useBias: false }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 8, activation: 'tanh' }),
      tf.layers.batchNormalization({ scale: false }),
      tf.layers.dense({ units: 5, activation: 'elu' }),
      tf.layers.dense({ units: 3, activation: head }),
    ],
  });
  randomize(model, seed);
  models.push(model);
  return model;
}

async function rows(t: tf.Tensor): Promise<number[][]> {
  const out = (await t.array()) as number[][];
  t.dispose();
  return out;
}

const softmaxRow = (z: number[]) => {
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp(v - top));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

/** The rule's formula over each member's own output rows (probabilities or logits). */
function combined(rule: CombineRule, probs: number[][][], logits: number[][][], w: number[]) {
  return (probs[0] as number[][]).map((_, r) => {
    const classes = (probs[0] as number[][])[r]?.length as number;
    const sum = new Array<number>(classes).fill(0);
    probs.forEach((p, k) => {
      const row = p[r] as number[];
      const top = row.indexOf(Math.max(...row));
      for (let c = 0; c < classes; c++) {
        const term =
          rule === 'mean'
            ? (row[c] as number)
            : rule === 'vote'
              ? Number(c === top)
              : rule === 'geometric'
                ? Math.log(Math.max(row[c] as number, 1e-12))
                : (((logits[k] as number[][])[r] as number[])[c] as number);
        sum[c] = (sum[c] as number) + (w[k] as number) * term;
      }
    });
    return rule === 'logit-mean' || rule === 'geometric' ? softmaxRow(sum) : sum;
  });
}

function expectClose(actual: number[][], expected: number[][], tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  actual.forEach((row, r) => {
    row.forEach((v, c) => {
      worst = Math.max(worst, Math.abs(v - ((expected[r] as number[])[c] as number)));
    });
  });
  expect(worst).toBeLessThanOrEqual(tolerance);
}

describe('stacked ensemble prediction', () => {
  it('equals member-by-member prediction to 1e-5 for every rule, weights and batch size', async () => {
    const members = [mlp(1), mlp(2), mlp(3), mlp(4), mlp(5)];
    const x = tf.randomNormal([37, 3, 4], 0, 1, 'float32', 9);
    const probs = await Promise.all(members.map((m) => rows(m.predict(x) as tf.Tensor)));
    // Logits: the last Dense without its softmax, by hand from its weights.
    const logits = await Promise.all(
      members.map((m) => {
        const head = m.layers.at(-1) as tf.layers.Layer;
        const body = tf.model({ inputs: m.inputs, outputs: head.input as tf.SymbolicTensor });
        const [kernel, bias] = head.getWeights();
        return rows(
          tf.tidy(() =>
            tf.add(tf.matMul(body.predict(x) as tf.Tensor2D, kernel as tf.Tensor2D), bias!),
          ),
        );
      }),
    );
    const weights = [3, 1, 0.5, 2, 1];
    const normalized = weights.map((w) => w / 7.5);
    for (const combine of COMBINE_RULES) {
      const ensemble = new Ensemble(members, { combine, weights });
      for (const batchSize of [8, 128]) {
        const out = await rows(await ensemble.predict(x, { batchSize }));
        expectClose(out, combined(combine, probs, logits, normalized));
      }
      ensemble.dispose();
    }
    x.dispose();
  });

  it('runs each Dense layer as one product for all members', async () => {
    const members = [mlp(1), mlp(2), mlp(3)];
    const x = tf.randomNormal([16, 3, 4], 0, 1, 'float32', 9);
    const ensemble = new Ensemble(members);
    const profile = await tf.profile(async () => {
      (await ensemble.predict(x, { batchSize: 16 })).dispose();
    });
    const products = profile.kernels.filter((k) => /MatMul/.test(k.name)).length;
    // 4 Dense layers for 3 members: 4 products (12 one by one), plus those folding BN in is none.
    expect(products).toBe(4);
    x.dispose();
  });

  it('sees weights set between two predictions', async () => {
    const members = [mlp(1), mlp(2)];
    const x = tf.randomNormal([6, 3, 4], 0, 1, 'float32', 9);
    const ensemble = new Ensemble(members);
    const first = await rows(await ensemble.predict(x));
    randomize(members[1] as tf.LayersModel, 7);
    const second = await rows(await ensemble.predict(x));
    const probs = await Promise.all(members.map((m) => rows(m.predict(x) as tf.Tensor)));
    expectClose(second, combined('mean', probs, [], [0.5, 0.5]));
    expect(second).not.toEqual(first);
    x.dispose();
  });

  it("members with a linear output ('logits') stack too", async () => {
    const members = [mlp(1, 'linear'), mlp(2, 'linear')];
    const x = tf.randomNormal([10, 3, 4], 0, 1, 'float32', 9);
    const logits = await Promise.all(members.map((m) => rows(m.predict(x) as tf.Tensor)));
    const probs = logits.map((rs) => rs.map(softmaxRow));
    for (const combine of ['mean', 'logit-mean'] as const) {
      const ensemble = new Ensemble(members, { combine, output: 'logits' });
      expectClose(
        await rows(await ensemble.predict(x)),
        combined(combine, probs, logits, [0.5, 0.5]),
      );
    }
    x.dispose();
  });

  it('leaves members of different or unsupported architectures to run one by one', () => {
    const conv = () => {
      const m = tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 3 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 3, activation: 'softmax' }),
        ],
      });
      models.push(m);
      return m;
    };
    const wider = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [3, 4] }), tf.layers.dense({ units: 4 })],
    });
    models.push(wider);
    const as = (ms: tf.LayersModel[]) => ms.map((model, index) => ({ index, model }));
    expect(StackedMembers.of(as([mlp(1), mlp(2)]), 'probabilities', false)).toBeDefined();
    // Initializers (seeds) differ between members: still one architecture.
    const seeded = [seededMlp(1), seededMlp(2)];
    models.push(...seeded);
    expect(StackedMembers.of(as(seeded), 'probabilities', false)).toBeDefined();
    expect(StackedMembers.of(as([mlp(1)]), 'probabilities', false)).toBeUndefined();
    expect(StackedMembers.of(as([mlp(1), mlp(2)]), 'probabilities', true)).toBeUndefined();
    expect(StackedMembers.of(as([conv(), conv()]), 'probabilities', false)).toBeUndefined();
    expect(StackedMembers.of(as([mlp(1), wider]), 'probabilities', false)).toBeUndefined();
    // Without a final softmax, probability members have no logits to give.
    const plain = [mlp(1, 'linear'), mlp(2, 'linear')];
    expect(StackedMembers.of(as(plain), 'probabilities', false)?.givesLogits).toBe(false);
  });

  it('keeps tf.memory().numTensors flat over many predictions', async () => {
    const members = [mlp(1), mlp(2), mlp(3)];
    const x = tf.randomNormal([20, 3, 4], 0, 1, 'float32', 9);
    const ensemble = new Ensemble(members, { combine: 'logit-mean' });
    (await ensemble.predict(x, { batchSize: 7 })).dispose();
    const start = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) (await ensemble.predict(x, { batchSize: 7 })).dispose();
    expect(tf.memory().numTensors).toBe(start);
    x.dispose();
  });
});
