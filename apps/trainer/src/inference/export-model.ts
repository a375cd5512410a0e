import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../errors.js';
import type { RunPreprocessing } from './run-data-info.js';

/** A layer as Keras-style JSON (`model.toJSON()`, snake_case), in a functional model's config. */
interface LayerJson {
  class_name: string;
  name?: string;
  config: Record<string, unknown> & { name: string };
  inbound_nodes?: unknown[];
}

type NodeRef = [string, number, number, Record<string, unknown>];

/** Names of the exported model's own layers. */
export const EXPORT_LAYERS = {
  input: 'raw_input',
  preprocess: 'preprocess',
  mean: 'ensemble_mean',
  memberPrefix: (i: number) => `m${i}_`,
} as const;

function withoutInputShape(config: Record<string, unknown>): Record<string, unknown> {
  const { batch_input_shape: _b, input_shape: _i, ...rest } = config;
  return rest;
}

/**
 * A member's layers as functional-model JSON fed by `input`, every name prefixed with `prefix`
 * so that the branches of an ensemble stay apart. Returns the layers and the output layer.
 */
function memberLayers(
  member: tf.LayersModel,
  prefix: string,
  input: string,
): { layers: LayerJson[]; output: string } {
  const topology = member.toJSON(null, false) as unknown as {
    class_name: string;
    config: { layers: LayerJson[]; input_layers?: NodeRef[]; output_layers?: NodeRef[] };
  };
  const source = topology.config.layers;
  for (const layer of source) {
    if (layer.class_name === 'Sequential' || layer.class_name === 'Model') {
      throw new UsageError(
        `The run's model nests a model (layer '${layer.config.name}'); export takes models whose layers are plain layers.`,
      );
    }
  }
  const named = (name: string) => `${prefix}${name}`;
  if (topology.class_name === 'Sequential') {
    let previous = input;
    const layers = source
      .filter((l) => l.class_name !== 'InputLayer')
      .map((l) => {
        const name = named(l.config.name);
        const inbound: NodeRef[] = [[previous, 0, 0, {}]];
        previous = name;
        return {
          class_name: l.class_name,
          name,
          config: { ...withoutInputShape(l.config), name },
          inbound_nodes: [inbound],
        };
      });
    return { layers, output: previous };
  }
  const inputs = topology.config.input_layers ?? [];
  const outputs = topology.config.output_layers ?? [];
  if (inputs.length !== 1 || outputs.length !== 1) {
    throw new UsageError(
      `The run's model has ${inputs.length} inputs and ${outputs.length} outputs; export takes models with one of each.`,
    );
  }
  const inputName = inputs[0]?.[0] as string;
  const rename = (name: string) => (name === inputName ? input : named(name));
  const layers = source
    .filter((l) => l.class_name !== 'InputLayer')
    .map((l) => ({
      class_name: l.class_name,
      name: named(l.config.name),
      config: { ...l.config, name: named(l.config.name) },
      inbound_nodes: (l.inbound_nodes as NodeRef[][]).map((node) =>
        node.map(([layer, n, t, kwargs]) => [rename(layer), n, t, kwargs] as NodeRef),
      ),
    }));
  return { layers, output: rename((outputs[0] as NodeRef)[0]) };
}

/** The preprocessing as a stock BatchNormalization layer's JSON (its weights are set later). */
function preprocessLayer(input: string): LayerJson {
  const probe = tf.sequential({
    layers: [tf.layers.batchNormalization({ inputShape: [1], name: EXPORT_LAYERS.preprocess })],
  });
  const layer = (probe.toJSON(null, false) as unknown as { config: { layers: LayerJson[] } }).config
    .layers[0] as LayerJson;
  probe.dispose();
  return {
    class_name: layer.class_name,
    name: EXPORT_LAYERS.preprocess,
    config: { ...withoutInputShape(layer.config), name: EXPORT_LAYERS.preprocess },
    inbound_nodes: [[[input, 0, 0, {}]]],
  };
}

/**
 * `(raw − mean) / std` as the frozen BatchNormalization's weights `[gamma, beta, moving_mean,
 * moving_variance]`: inference computes `(x − moving_mean) · gamma / sqrt(moving_variance + ε)
 * + beta`, so gamma = 1/std, beta = 0, moving_mean = mean and moving_variance = 1 − ε (not
 * std² − ε, which is negative for std < √ε).
 */
function preprocessWeights(prep: RunPreprocessing, epsilon: number): tf.Tensor[] {
  const width = prep.inputShape.at(-1) as number;
  const at = (v: number[], c: number) => v[v.length === 1 ? 0 : c] as number;
  const mean = Array.from({ length: width }, (_, c) => at(prep.mean, c));
  const gamma = Array.from({ length: width }, (_, c) => 1 / at(prep.std, c));
  return [tf.tensor1d(gamma), tf.zeros([width]), tf.tensor1d(mean), tf.fill([width], 1 - epsilon)];
}

/**
 * One functional `tf.LayersModel` whose output is the mean of the members' probabilities (for
 * one member, its output) on raw inputs: input → frozen BatchNormalization doing the run's
 * preprocessing → each member as a branch with its layers renamed `m<i>_<name>` → `Average`.
 * Built from stock layers only, so plain `tf.loadLayersModel` reads it anywhere. The members
 * stay the caller's; the weights are copied.
 */
export async function buildExportModel(
  members: tf.LayersModel[],
  prep: RunPreprocessing,
  name: string,
): Promise<tf.LayersModel> {
  const input: LayerJson = {
    class_name: 'InputLayer',
    name: EXPORT_LAYERS.input,
    config: {
      batch_input_shape: [null, ...prep.inputShape],
      dtype: 'float32',
      sparse: false,
      name: EXPORT_LAYERS.input,
    },
    inbound_nodes: [],
  };
  const pre = preprocessLayer(EXPORT_LAYERS.input);
  const branches = members.map((m, i) =>
    memberLayers(m, EXPORT_LAYERS.memberPrefix(i), EXPORT_LAYERS.preprocess),
  );
  const layers: LayerJson[] = [input, pre, ...branches.flatMap((b) => b.layers)];
  let output = branches[0]?.output as string;
  if (branches.length > 1) {
    layers.push({
      class_name: 'Average',
      name: EXPORT_LAYERS.mean,
      config: { name: EXPORT_LAYERS.mean, trainable: true, dtype: 'float32' },
      inbound_nodes: [branches.map((b) => [b.output, 0, 0, {}] as NodeRef)],
    });
    output = EXPORT_LAYERS.mean;
  }
  const topology = {
    class_name: 'Model',
    config: {
      name,
      layers,
      input_layers: [[EXPORT_LAYERS.input, 0, 0]],
      output_layers: [[output, 0, 0]],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
  const model = await tf.models.modelFromJSON({
    modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'],
  } as tf.io.ModelJSON);
  const preLayer = model.getLayer(EXPORT_LAYERS.preprocess);
  const epsilon = Number(preLayer.getConfig().epsilon);
  const preWeights = preprocessWeights(prep, epsilon);
  preLayer.setWeights(preWeights);
  tf.dispose(preWeights);
  members.forEach((member, i) => {
    for (const layer of member.layers) {
      if (layer.getClassName() === 'InputLayer' || layer.weights.length === 0) continue;
      model
        .getLayer(`${EXPORT_LAYERS.memberPrefix(i)}${layer.name}`)
        .setWeights(layer.getWeights());
    }
  });
  return model;
}
