import { DisposedError, InvalidArgumentError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ensemble } from './ensemble.js';
import { LogitsUnavailableError, MemberShapeMismatchError } from './errors.js';
import { classificationMetrics } from './metrics.js';
import { isDisposed, probabilityModel, TrackingStore, tableModel } from './test-fixtures.js';

// Three members' probabilities on two examples (rows), three classes.
const P1 = [
  [0.5, 0.3, 0.2],
  [0.1, 0.6, 0.3],
];
const P2 = [
  [0.2, 0.2, 0.6],
  [0.3, 0.3, 0.4],
];
const P3 = [
  [0.4, 0.4, 0.2], // tie: votes for class 0
  [0.25, 0.25, 0.5],
];

let models: tf.LayersModel[] = [];
let x: tf.Tensor2D;
let before: number;

beforeEach(() => {
  before = tf.memory().numTensors;
  x = tf.eye(2) as tf.Tensor2D;
  models = [];
});
afterEach(() => {
  x.dispose();
  for (const m of models) m.dispose();
  expect(tf.memory().numTensors).toBe(before);
});

function keep<T extends tf.LayersModel>(m: T): T {
  models.push(m);
  return m;
}

async function predicted(ensemble: Ensemble, input: tf.Tensor = x, batchSize?: number) {
  const out = await ensemble.predict(input, batchSize === undefined ? {} : { batchSize });
  const rows = (await out.array()) as number[][];
  out.dispose();
  return rows;
}

function expectRows(actual: number[][], expected: number[][], digits = 6) {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    expect(row.length).toBe(expected[i]?.length);
    row.forEach((v, c) => {
      expect(v).toBeCloseTo(expected[i]?.[c] as number, digits);
    });
  });
}

describe('combination rules against hand computation', () => {
  let three: tf.LayersModel[];
  beforeEach(() => {
    three = [P1, P2, P3].map((p) => keep(probabilityModel(p)));
  });

  it("'mean' (default) averages probabilities", async () => {
    const e = new Ensemble(three);
    expect(e.combine).toBe('mean');
    expectRows(await predicted(e), [
      [1.1 / 3, 0.9 / 3, 1.0 / 3],
      [0.65 / 3, 1.15 / 3, 1.2 / 3],
    ]);
  });

  it("'vote' gives the fraction of members voting per class; a tied member votes lowest index", async () => {
    const e = new Ensemble(three, { combine: 'vote' });
    // argmax: member 1 → (0, 1), member 2 → (2, 2), member 3 → (0 by tie, 2)
    expectRows(await predicted(e), [
      [2 / 3, 0, 1 / 3],
      [0, 1 / 3, 2 / 3],
    ]);
  });

  it("'vote' keeps ties between classes; accuracy then picks the lowest index", async () => {
    const e = new Ensemble(three.slice(0, 2), { combine: 'vote' });
    // member 1 → 0, member 2 → 2 on example 0; member 1 → 1, member 2 → 2 on example 1
    expectRows(await predicted(e), [
      [0.5, 0, 0.5],
      [0, 0.5, 0.5],
    ]);
    const result = await e.evaluate(x, [2, 1]);
    expect(result.ensemble.accuracy).toBe(0.5); // example 0 → class 0 (wrong), example 1 → 1 (right)
  });

  it("'geometric' is the normalised geometric mean of probabilities", async () => {
    const e = new Ensemble(three, { combine: 'geometric' });
    // ∝ (0.5·0.2·0.4)^⅓, (0.3·0.2·0.4)^⅓, (0.2·0.6·0.2)^⅓ on example 0, normalised
    expectRows(await predicted(e), [
      [0.37218091603250897, 0.31390954198374554, 0.3139095419837456],
      [0.20759289304236994, 0.3772213208728902, 0.4151857860847399],
    ]);
  });

  it('weights not summing to 1 are normalised: [2, 1, 1] acts as [0.5, 0.25, 0.25]', async () => {
    const raw = new Ensemble(three, { weights: [2, 1, 1] });
    expect(raw.weights).toEqual([0.5, 0.25, 0.25]);
    expectRows(await predicted(raw), [
      [(1.0 + 0.2 + 0.4) / 4, (0.6 + 0.2 + 0.4) / 4, (0.4 + 0.6 + 0.2) / 4],
      [(0.2 + 0.3 + 0.25) / 4, (1.2 + 0.3 + 0.25) / 4, (0.6 + 0.4 + 0.5) / 4],
    ]);
    const unit = new Ensemble(three, { weights: [0.5, 0.25, 0.25] });
    expect(await predicted(unit)).toEqual(await predicted(raw));
    const vote = new Ensemble(three, { combine: 'vote', weights: [2, 1, 1] });
    expectRows(await predicted(vote), [
      [0.75, 0, 0.25],
      [0, 0.5, 0.5],
    ]);
    const geometric = new Ensemble(three, { combine: 'geometric', weights: [2, 1, 1] });
    // ∝ p1^½ · p2^¼ · p3^¼
    expectRows(await predicted(geometric), [
      [0.4041181626517758, 0.3130285827700535, 0.28285325457817057],
      [0.17658941476893356, 0.432553960160587, 0.3908566250704793],
    ]);
  });

  it('rejects weights of the wrong count, negative, non-finite or all zero', () => {
    expect(() => new Ensemble(three, { weights: [1, 1] })).toThrow(
      /weights.*3 weights, one per member/,
    );
    expect(() => new Ensemble(three, { weights: [1, -1, 1] })).toThrow(/weights\[1\]: got -1/);
    expect(() => new Ensemble(three, { weights: [1, Number.NaN, 1] })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new Ensemble(three, { weights: [0, 0, 0] })).toThrow(/at least one weight > 0/);
    expect(new Ensemble(three, { weights: [0, 1, 0] }).weights).toEqual([0, 1, 0]);
    expect(() => new Ensemble(three, { combine: 'median' as 'mean' })).toThrow(
      /combine: got "median"/,
    );
    expect(() => new Ensemble([])).toThrow(/members/);
  });
});

describe("'logit-mean'", () => {
  // Members' logits on two examples; probabilities are their softmax.
  const Z1 = [
    [2, 1, 0],
    [0, 3, -1],
  ];
  const Z2 = [
    [1, 1, 1],
    [-2, 0, 2],
  ];
  // softmax((Z1 + Z2) / 2)
  const expected = [
    [0.506480391055654, 0.3071958857184984, 0.1863237232258476],
    [0.05661173224047129, 0.6896720861245036, 0.25371618163502524],
  ];

  it('reads the pre-activation of a Dense softmax, an Activation or a Softmax layer', async () => {
    for (const head of ['dense-softmax', 'activation', 'softmax-layer'] as const) {
      const e = new Ensemble([keep(tableModel(Z1, head)), keep(tableModel(Z2, head))], {
        combine: 'logit-mean',
      });
      expectRows(await predicted(e), expected);
    }
  });

  it("takes members' outputs as logits with output: 'logits', or a logits function", async () => {
    const linear = [keep(tableModel(Z1, 'linear')), keep(tableModel(Z2, 'linear'))];
    expectRows(
      await predicted(new Ensemble(linear, { combine: 'logit-mean', output: 'logits' })),
      expected,
    );
    // with output: 'logits' every rule sees softmax(output) as the member's probabilities
    const mean = new Ensemble(linear, { output: 'logits' });
    expectRows(await predicted(mean), [
      [
        (0.6652409557748218 + 1 / 3) / 2,
        (0.24472847105479764 + 1 / 3) / 2,
        (0.09003057317038046 + 1 / 3) / 2,
      ],
      [
        (0.0466126225779739 + 0.015876239976466765) / 2,
        (0.9362395518765058 + 0.11731042782619838) / 2,
        (0.01714782554552039 + 0.8668133321973349) / 2,
      ],
    ]);
    const custom = new Ensemble(linear, {
      combine: 'logit-mean',
      logits: (model, input) => model.predict(input) as tf.Tensor,
    });
    expectRows(await predicted(custom), expected);
  });

  it("equals 'geometric' for softmax members, and keeps precision where softmax saturates", async () => {
    const members = [keep(tableModel(Z1)), keep(tableModel(Z2))];
    const logit = await predicted(new Ensemble(members, { combine: 'logit-mean' }));
    const geometric = await predicted(new Ensemble(members, { combine: 'geometric' }));
    expectRows(logit, geometric, 6);
    // z = [0, 120] and [100, 0]: float32 softmax rounds to [0, 1] and [1, 0].
    const saturated = [keep(tableModel([[0, 120]])), keep(tableModel([[100, 0]]))];
    const one = tf.eye(1);
    const exact = await predicted(new Ensemble(saturated, { combine: 'logit-mean' }), one);
    // softmax([50, 60]): the small class survives to float32 precision
    expect((exact[0]?.[0] as number) / 4.5397868702434395e-5).toBeCloseTo(1, 5);
    expect(exact[0]?.[1]).toBeCloseTo(0.9999546021312976, 7);
    const clamped = await predicted(new Ensemble(saturated, { combine: 'geometric' }), one);
    expectRows(clamped, [[0.5, 0.5]]); // both log p clamped to log 1e-12
    one.dispose();
  });

  it('names the member whose logits cannot be found', () => {
    const relu = keep(
      tf.sequential({
        layers: [tf.layers.dense({ inputShape: [2], units: 3, activation: 'sigmoid' })],
      }),
    );
    const ok = keep(tableModel(Z1));
    expect(() => new Ensemble([ok, relu], { combine: 'logit-mean' })).toThrow(
      LogitsUnavailableError,
    );
    expect(() => new Ensemble([ok, relu], { combine: 'logit-mean' })).toThrow(
      new RegExp(`member 1, model "${relu.name}".*is a Dense 'sigmoid', not a softmax`),
    );
    // other rules do not need logits
    expect(new Ensemble([ok, relu]).size).toBe(2);
  });
});

describe('shape checks', () => {
  it('rejects members whose input or output shape differs, naming the member', () => {
    const a = keep(probabilityModel(P1));
    const wider = keep(
      tableModel([
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ]),
    ); // input [3]
    const fewer = keep(
      tableModel([
        [0, 0],
        [0, 0],
      ]),
    ); // 2 classes
    expect(() => new Ensemble([a, wider])).toThrow(MemberShapeMismatchError);
    expect(() => new Ensemble([a, wider])).toThrow(
      `Ensemble member 1, model "${wider.name}", has input shape [null, 3]; expected [null, 2], as member 0 has.`,
    );
    try {
      new Ensemble([a, a, fewer]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MemberShapeMismatchError);
      expect(error).toMatchObject({
        member: 2,
        kind: 'output',
        actual: '[null, 2]',
        expected: '[null, 3], as member 0 has',
      });
    }
  });

  it('rejects multi-output and non-2-D outputs', () => {
    const input = tf.input({ shape: [2] });
    const o1 = tf.layers
      .dense({ units: 3, activation: 'softmax' })
      .apply(input) as tf.SymbolicTensor;
    const o2 = tf.layers
      .dense({ units: 3, activation: 'softmax' })
      .apply(input) as tf.SymbolicTensor;
    const twoHeads = keep(tf.model({ inputs: input, outputs: [o1, o2] }));
    expect(() => new Ensemble([twoHeads])).toThrow(
      /member 0.*output shape \[null, 3\] and \[null, 3\]; expected one output of shape \[batch, classes\]/,
    );
    const seq = keep(
      tf.sequential({ layers: [tf.layers.reshape({ inputShape: [4], targetShape: [2, 2] })] }),
    );
    expect(() => new Ensemble([seq])).toThrow(MemberShapeMismatchError);
  });
});

describe('evaluate', () => {
  it('reports ensemble, member, size-curve and disagreement values by hand', async () => {
    const three = [P1, P2, P3].map((p) => keep(probabilityModel(p)));
    const labels = [0, 2];
    const e = new Ensemble(three);
    const r = await e.evaluate(x, labels, { bins: 5 });
    const metricsOf = async (rows: number[][]) => {
      const t = tf.tensor2d(rows);
      const m = await classificationMetrics(t, labels, { bins: 5 });
      t.dispose();
      return m;
    };
    const mean = (...ps: number[][][]) =>
      [0, 1].map((i) =>
        [0, 1, 2].map((c) => ps.reduce((s, p) => s + (p[i]?.[c] as number), 0) / ps.length),
      );
    const close = (actual: object, expected: object) => {
      for (const [k, v] of Object.entries(expected)) {
        expect((actual as Record<string, number>)[k], k).toBeCloseTo(v as number, 6);
      }
    };
    // Member 1: accuracy ½ (ex 1 predicts 1), NLL −(ln .5 + ln .3)/2, by the metric functions' own tests.
    expect(r.members[0]?.accuracy).toBe(0.5);
    expect(r.members[0]?.nll).toBeCloseTo(-(Math.log(0.5) + Math.log(0.3)) / 2, 6);
    // Brier of member 2: (.8² + .2² + .6²) + (.3² + .3² + .6²) over 2
    expect(r.members[1]?.brier).toBeCloseTo((0.64 + 0.04 + 0.36 + 0.09 + 0.09 + 0.36) / 2, 6);
    for (const [i, p] of [P1, P2, P3].entries()) close(r.members[i] as object, await metricsOf(p));
    close(r.ensemble, await metricsOf(mean(P1, P2, P3)));
    expect(r.sizeCurve.map((s) => `${s.from}${s.k}`)).toEqual([
      'first1',
      'first2',
      'first3',
      'last1',
      'last2',
      'last3',
    ]);
    close(r.sizeCurve[0] as object, await metricsOf(P1));
    close(r.sizeCurve[1] as object, await metricsOf(mean(P1, P2)));
    close(r.sizeCurve[3] as object, await metricsOf(P3));
    close(r.sizeCurve[4] as object, await metricsOf(mean(P2, P3)));
    expect(r.sizeCurve[2]).toMatchObject(r.ensemble);
    expect(r.sizeCurve[5]).toMatchObject(r.ensemble);
    // argmax: member 1 (0, 1), member 2 (2, 2), member 3 (0, 2): pairs differ on 2, 1, 1 of 2
    expect(r.disagreement).toBeCloseTo((1 + 0.5 + 0.5) / 3, 12);
  });

  it("ensemble metrics equal the metrics of predict()'s output, for every rule", async () => {
    const three = [P1, P2, P3].map((p) => keep(probabilityModel(p)));
    for (const combine of ['mean', 'vote', 'logit-mean', 'geometric'] as const) {
      const e = new Ensemble(three, { combine, weights: [1, 2, 3] });
      const out = await e.predict(x);
      const direct = await classificationMetrics(out, [0, 2]);
      out.dispose();
      expect((await e.evaluate(x, [0, 2])).ensemble).toEqual(direct);
    }
  });

  it('rejects labels of the wrong length', async () => {
    const e = new Ensemble([keep(probabilityModel(P1))]);
    await expect(e.evaluate(x, [0])).rejects.toThrow(/expected 2 labels/);
  });
});

describe('fromStore', () => {
  it('selects all, ids, or the last k snapshots; loaded members are disposed with the ensemble', async () => {
    const store = new TrackingStore();
    const ids: string[] = [];
    for (const [step, p] of [P1, P2, P3].entries()) {
      const m = probabilityModel(p);
      ids.push((await store.save(m, { step })).id);
      m.dispose();
    }
    const [s1, s2, s3] = ids as [string, string, string];
    const all = await Ensemble.fromStore(store);
    expect(all.ids).toEqual([s1, s2, s3]);
    expect(all.streaming).toBe(false);
    expectRows(await predicted(all), [
      [1.1 / 3, 0.9 / 3, 1.0 / 3],
      [0.65 / 3, 1.15 / 3, 1.2 / 3],
    ]);
    all.dispose();
    expect(store.loaded.map(isDisposed)).toEqual([true, true, true]);
    const last2 = await Ensemble.fromStore(store, { last: 2, stream: true });
    expect(last2.ids).toEqual([s2, s3]);
    const picked = await Ensemble.fromStore(store, { ids: [s3, s2], combine: 'vote' });
    expect(picked.ids).toEqual([s3, s2]);
    const r = await picked.evaluate(x, [0, 2]);
    expect(r.members.map((m) => m.id)).toEqual([s3, s2]);
    picked.dispose();
    await expect(picked.predict(x)).rejects.toThrow(DisposedError);
    await expect(picked.evaluate(x, [0, 2])).rejects.toThrow(
      /Ensemble\.evaluate was called on a disposed Ensemble/,
    );
    await expect(Ensemble.fromStore(store, { ids: ['nope'] })).rejects.toThrow(
      /ids\[0\]: got "nope"/,
    );
    await expect(Ensemble.fromStore(store, { last: 4 })).rejects.toThrow(
      /last: got 4; expected at most 3/,
    );
    await expect(Ensemble.fromStore(new TrackingStore())).rejects.toThrow(/at least one snapshot/);
    await expect(Ensemble.fromStore(store, { weights: [1, 1] })).rejects.toThrow(/3 weights/);
    last2.dispose();
  });

  it('streaming names a mismatched snapshot when it loads, and frees what it loaded', async () => {
    const store = new TrackingStore();
    const a = probabilityModel(P1);
    const b = tableModel([
      [0, 0],
      [0, 0],
    ]);
    await store.save(a, { step: 0 });
    const { id } = await store.save(b, { step: 1 });
    a.dispose();
    b.dispose();
    const e = await Ensemble.fromStore(store, { stream: true });
    await expect(e.predict(x)).rejects.toThrow(
      new RegExp(`member 1 \\(snapshot "${id}"\\).*output shape \\[null, 2\\]`),
    );
    await expect(Ensemble.fromStore(store)).rejects.toThrow(MemberShapeMismatchError);
  });
});

describe('Ensemble.fromStore with any { list(), load(id) }', () => {
  it('reads a plain object store, in memory and streaming alike', async () => {
    const tables: Record<string, number[][]> = {
      a: [
        [0.7, 0.2, 0.1],
        [0.1, 0.3, 0.6],
      ],
      b: [
        [0.5, 0.4, 0.1],
        [0.2, 0.2, 0.6],
      ],
    };
    let loads = 0;
    const source = {
      list: async () => [{ id: 'a' }, { id: 'b' }],
      load: async (id: string) => {
        loads++;
        return probabilityModel(tables[id] as number[][]);
      },
    };
    const x = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    for (const stream of [false, true]) {
      const ensemble = await Ensemble.fromStore(source, { stream });
      const probs = await ensemble.predict(x);
      expect(Array.from(await probs.data()).map((v) => Number(v.toFixed(5)))).toEqual([
        0.6, 0.3, 0.1, 0.15, 0.25, 0.6,
      ]);
      probs.dispose();
      ensemble.dispose();
    }
    expect(loads).toBe(4);
    x.dispose();
  });
});
