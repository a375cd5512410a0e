import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  encodeSnapshot,
  MODEL_JSON,
  modelFromArtifacts,
  type ParsedModel,
  parseModelJson,
  toArtifacts,
} from './artifacts.js';
import { buildModel, keysToCamel, referencesResolve, saysAllOf } from './build-model.js';
import { MemorySnapshotStore } from './memory-store.js';
import { randomizeWeights, weightArrays } from './test-helpers.js';

/** The model's snapshot files as `buildModel` receives them (weights in one fresh buffer). */
async function snapshotOf(
  model: tf.LayersModel,
): Promise<{ parsed: ParsedModel; bytes: Uint8Array }> {
  const encoded = await encodeSnapshot(model, false);
  const join = (name: string) => {
    const file = encoded.files.find((f) => f.name === name)!;
    const out = new Uint8Array(file.byteSize);
    let offset = 0;
    for (const chunk of file.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  };
  const bytes = join('weights.bin');
  const parsed = parseModelJson('snap-1', (n) => n, join(MODEL_JSON), bytes.byteLength);
  return { parsed, bytes };
}

function mlp(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [6], units: 8, activation: 'relu', name: 'hidden_layer_1' }),
      tf.layers.batchNormalization({ center: false }),
      tf.layers.dropout({ rate: 0.3 }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: 'heNormal' }),
    ],
  });
}

function cnn(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, padding: 'same' }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }),
      tf.layers.maxPooling2d({ poolSize: 2, dataFormat: 'channelsLast' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5 }),
    ],
  });
}

/** Embedding, a bidirectional LSTM and a time-distributed dense (nested cell and layer configs). */
function recurrent(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: 20, outputDim: 4, inputLength: 5 }),
      tf.layers.bidirectional({
        layer: tf.layers.lstm({ units: 3, returnSequences: true }) as tf.RNN,
        mergeMode: 'concat',
      }),
      tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) }),
    ],
  });
}

/** Two inputs, a shared nested Sequential and a concatenation. */
function functional(): tf.LayersModel {
  const left = tf.input({ shape: [5], name: 'left_in' });
  const right = tf.input({ shape: [5], name: 'right_in' });
  const shared = tf.sequential({
    name: 'shared_tower',
    layers: [tf.layers.dense({ inputShape: [5], units: 4, activation: 'tanh' })],
  });
  const merged = tf.layers
    .concatenate()
    .apply([shared.apply(left) as tf.SymbolicTensor, shared.apply(right) as tf.SymbolicTensor]);
  const out = tf.layers.dense({ units: 2, name: 'head_out' }).apply(merged) as tf.SymbolicTensor;
  return tf.model({ inputs: [left, right], outputs: out });
}

const cases: [string, () => tf.LayersModel, () => tf.Tensor | tf.Tensor[]][] = [
  [
    'MLP with BN (center: false) and dropout',
    mlp,
    () => tf.randomNormal([4, 6], 0, 1, 'float32', 1),
  ],
  [
    'CNN with BN, depthwise conv and pooling',
    cnn,
    () => tf.randomNormal([2, 8, 8, 2], 0, 1, 'float32', 2),
  ],
  [
    'embedding, bidirectional LSTM and time-distributed dense',
    recurrent,
    () =>
      tf.tensor2d([
        [1, 5, 19, 0, 3],
        [7, 7, 2, 11, 4],
      ]),
  ],
  [
    'functional model with two inputs and a nested Sequential',
    functional,
    () => [
      tf.randomNormal([3, 5], 0, 1, 'float32', 3),
      tf.randomNormal([3, 5], 0, 1, 'float32', 4),
    ],
  ],
];

describe('buildModel (load without copying the weights)', () => {
  it('reads Keras-style keys and enum values the way tfjs-layers spells them', () => {
    expect(
      keysToCamel({
        class_name: 'Dense',
        config: {
          name: 'dense_layer_1',
          kernel_initializer: {
            class_name: 'VarianceScaling',
            config: { distribution: 'truncated_normal' },
          },
          data_format: 'channels_last',
          batch_input_shape: [null, 3],
        },
        inbound_nodes: [[['dense_layer_1', 0, 0, { some_kwarg: 'x_y' }]]],
        output_layers: [['head_out', 0, 0]],
      }),
    ).toEqual({
      className: 'Dense',
      config: {
        name: 'dense_layer_1',
        kernelInitializer: {
          className: 'VarianceScaling',
          config: { distribution: 'truncatedNormal' },
        },
        dataFormat: 'channelsLast',
        batchInputShape: [null, 3],
      },
      inboundNodes: [[['dense_layer_1', 0, 0, { someKwarg: 'xY' }]]],
      outputLayers: [['head_out', 0, 0]],
    });
  });

  it('refuses functional configs that name a layer they lack (tfjs would wait for it forever)', () => {
    const config = {
      name: 'm',
      layers: [
        { name: 'in_1', className: 'InputLayer', config: {}, inboundNodes: [] },
        { name: 'dense_1', className: 'Dense', config: {}, inboundNodes: [[['in_1', 0, 0, {}]]] },
      ],
      inputLayers: [['in_1', 0, 0]],
      outputLayers: [['dense_1', 0, 0]],
    };
    expect(referencesResolve(config)).toBe(true);
    expect(referencesResolve({ ...config, outputLayers: [['dense1', 0, 0]] })).toBe(false);
    const wrongInbound = structuredClone(config);
    wrongInbound.layers[1]!.inboundNodes = [[['in1', 0, 0, {}]]];
    expect(referencesResolve(wrongInbound)).toBe(false);
    // The same check applies to a functional model nested as a layer.
    expect(referencesResolve({ layers: [{ name: 'outer', config: wrongInbound }] })).toBe(false);
  });

  it('accepts a rebuilt topology that adds keys, not one that changes or drops any', () => {
    const saved = { name: 'm', layers: [{ units: 3, shape: [null, 5] }] };
    expect(saysAllOf({ ...saved, extra: 1 }, saved)).toBe(true);
    expect(
      saysAllOf({ name: 'm', layers: [{ units: 3, shape: [null, 5], dtype: 'float32' }] }, saved),
    ).toBe(true);
    expect(saysAllOf({ name: 'm', layers: [{ units: 4, shape: [null, 5] }] }, saved)).toBe(false);
    expect(saysAllOf({ name: 'm', layers: [{ units: 3, shape: [null, 5, 1] }] }, saved)).toBe(
      false,
    );
    expect(saysAllOf({ name: 'm', layers: [{ shape: [null, 5] }] }, saved)).toBe(false);
    expect(saysAllOf({ name: 'm', layers: [] }, saved)).toBe(false);
    expect(saysAllOf({ name: 'm', layers: { 0: { units: 3, shape: [null, 5] } } }, saved)).toBe(
      false,
    );
  });

  it.each(cases)(
    '%s: the topology stock loading builds, the saved weights and predictions',
    async (_, make, input) => {
      const model = make();
      randomizeWeights(model, 7);
      const { parsed, bytes } = await snapshotOf(model);
      const built = buildModel(parsed, bytes, true);
      expect(built).not.toBeNull();
      const loaded = built as tf.LayersModel;
      // The topology stock tfjs loading rebuilds from the same files.
      const stock = await modelFromArtifacts(toArtifacts(parsed, bytes));
      expect(loaded.toJSON(null, false)).toEqual(stock.toJSON(null, false));
      stock.dispose();
      expect(await weightArrays(loaded)).toEqual(await weightArrays(model));
      const x = input();
      const expected = model.predict(x) as tf.Tensor;
      const got = loaded.predict(x) as tf.Tensor;
      expect(Array.from(await got.data())).toEqual(Array.from(await expected.data()));
      tf.dispose([x, expected, got] as tf.Tensor[]);
      model.dispose();
      loaded.dispose();
    },
  );

  it('shares the weight bytes it owns and copies those it does not', async () => {
    // Reads the cpu backend's own buffers; the native test pass starts on another backend.
    const previous = tf.getBackend();
    await tf.setBackend('cpu');
    onTestFinished(async () => {
      await tf.setBackend(previous);
    });
    const model = mlp();
    const { parsed, bytes } = await snapshotOf(model);
    const backingBuffer = (m: tf.LayersModel) =>
      (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(
        m.weights[0]!.read().dataId,
      ).values.buffer;
    const viewing = buildModel(parsed, bytes, true) as tf.LayersModel;
    const copying = buildModel(parsed, bytes, false) as tf.LayersModel;
    expect(backingBuffer(viewing)).toBe(bytes.buffer);
    expect(backingBuffer(copying)).not.toBe(bytes.buffer);
    expect(await weightArrays(copying)).toEqual(await weightArrays(viewing));
    model.dispose();
    viewing.dispose();
    copying.dispose();
  });

  it('declines (and leaves no tensors behind) when it cannot vouch for the result', async () => {
    const model = mlp();
    const { parsed, bytes } = await snapshotOf(model);
    const before = tf.memory().numTensors;
    const topology = parsed.json.modelTopology as {
      class_name: string;
      config: { layers: { config: Record<string, unknown> }[] };
    };
    const variants: ParsedModel[] = [
      // A config key tfjs ignores: the rebuilt model would not serialize back to the saved one.
      {
        ...parsed,
        json: {
          ...parsed.json,
          modelTopology: {
            ...topology,
            config: {
              ...topology.config,
              layers: topology.config.layers.map((l, i) =>
                i === 0 ? { ...l, config: { ...l.config, not_a_tfjs_option: 1 } } : l,
              ),
            },
          },
        },
      },
      {
        ...parsed,
        json: { ...parsed.json, modelTopology: { ...topology, class_name: 'NoSuchModel' } },
      },
      {
        ...parsed,
        json: { ...parsed.json, trainingConfig: { loss: 'meanSquaredError' } as never },
      },
      {
        ...parsed,
        specs: parsed.specs.map((s, i) => (i === 0 ? { ...s, name: 'renamed/kernel' } : s)),
      },
    ];
    for (const variant of variants) expect(buildModel(variant, bytes, false)).toBeNull();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('keeps the tensor count flat over repeated loads through a store', async () => {
    const model = cnn();
    const store = new MemorySnapshotStore();
    const { id } = await store.save(model, { step: 1 });
    (await store.load(id)).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) (await store.load(id)).dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
