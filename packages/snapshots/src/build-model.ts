import * as tf from '@tensorflow/tfjs-core';
import { LayersModel } from '@tensorflow/tfjs-layers';
import { type ParsedModel, writeDecoded } from './artifacts.js';

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Keys whose arrays start with a layer name, which stays as written (Keras JSON convention). */
const LAYER_NAME_LISTS = new Set(['inboundNodes', 'inputLayers', 'outputLayers']);

/** `snake_case` → `camelCase`, as tfjs-layers spells config keys and enum values. */
function camel(identifier: string): string {
  if (identifier.length <= 1 || !identifier.includes('_')) return identifier;
  return identifier.replace(/_+(\w|$)/g, (_, next: string) => next.toUpperCase());
}

/**
 * The TypeScript-style config tfjs-layers' `fromConfig` expects, from a Keras-style (snake_case)
 * `modelTopology`: keys and string values are camel-cased, except the values of `name` and the
 * layer names that head the lists under `inbound_nodes`, `input_layers` and `output_layers`.
 * `buildModel` checks the result by serializing the built model back, so a divergence from
 * tfjs's own reading makes it fall back to stock loading instead of building something else.
 */
export function keysToCamel(value: JsonValue, key?: string): JsonValue {
  if (typeof value === 'string') return camel(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    return value.map((item, i) =>
      i === 0 && typeof item === 'string' && key !== undefined && LAYER_NAME_LISTS.has(key)
        ? item
        : keysToCamel(item, key),
    );
  }
  const out: { [key: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'name' && typeof v === 'string') {
      out[k] = v;
    } else {
      const tsKey = camel(k);
      out[tsKey] = keysToCamel(v, tsKey);
    }
  }
  return out;
}

/** The layer name a node reference (`[name, nodeIndex, tensorIndex, ...]`) points at. */
function referencedName(reference: JsonValue): string | undefined {
  return Array.isArray(reference) && typeof reference[0] === 'string' ? reference[0] : undefined;
}

/**
 * Whether every layer a functional config (at any nesting depth) refers to exists in it. tfjs
 * waits forever for a layer that never appears, so a config that fails this is never built here.
 */
export function referencesResolve(config: JsonValue): boolean {
  if (Array.isArray(config)) return config.every(referencesResolve);
  if (config === null || typeof config !== 'object') return true;
  const { layers, inputLayers, outputLayers } = config;
  if (Array.isArray(layers) && (inputLayers !== undefined || outputLayers !== undefined)) {
    const names = new Set(
      layers.map((l) => (l !== null && typeof l === 'object' && !Array.isArray(l) ? l.name : null)),
    );
    const references: JsonValue[] = [
      ...(Array.isArray(inputLayers) ? inputLayers : [null]),
      ...(Array.isArray(outputLayers) ? outputLayers : [null]),
    ];
    for (const layer of layers) {
      const nodes =
        layer !== null && typeof layer === 'object' && !Array.isArray(layer)
          ? layer.inboundNodes
          : undefined;
      if (nodes === undefined) continue;
      if (!Array.isArray(nodes)) return false;
      for (const node of nodes) {
        if (!Array.isArray(node)) return false;
        references.push(...node);
      }
    }
    if (!references.every((r) => names.has(referencedName(r) as string))) return false;
  }
  return Object.values(config).every(referencesResolve);
}

/**
 * Whether `built` says everything `saved` says: the same values at every key `saved` has, arrays
 * element by element. `built` may add keys: tfjs itself writes some defaults only after a load
 * (an `Embedding` under `Sequential` gains `dtype`), so exact equality would refuse models that
 * stock loading rebuilds just the same.
 */
export function saysAllOf(built: JsonValue | undefined, saved: JsonValue): boolean {
  if (saved === null || typeof saved !== 'object') return built === saved;
  if (built === null || built === undefined || typeof built !== 'object') return false;
  if (Array.isArray(saved)) {
    return (
      Array.isArray(built) &&
      built.length === saved.length &&
      saved.every((item, i) => saysAllOf(built[i], item))
    );
  }
  if (Array.isArray(built)) return false;
  return Object.entries(saved).every(([key, value]) => saysAllOf(built[key], value));
}

type ModelFromConfig = (
  cls: tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
  config: tf.serialization.ConfigDict,
  customObjects: tf.serialization.ConfigDict,
  fastWeightInit: boolean,
) => tf.serialization.Serializable;

/** `{ class_name, config }` of a Keras-style topology, unwrapping a full Keras model file. */
function modelConfig(topology: unknown): { className: string; config: JsonValue } | null {
  if (typeof topology !== 'object' || topology === null) return null;
  const record = topology as Record<string, unknown>;
  const inner = (record.model_config ?? record) as Record<string, unknown>;
  if (typeof inner.class_name !== 'string' || typeof inner.config !== 'object') return null;
  return { className: inner.class_name, config: inner.config as JsonValue };
}

/**
 * Builds a snapshot's model without the copy of every weight that stock `loadLayersModel` makes:
 * the layers are built with tfjs's fast (zero) initialization, as stock loading does, and then
 * take tensors decoded straight from `weights` (views when `owned`, so nothing else holds them).
 *
 * Returns `null`, having built nothing that stays alive, when this path cannot vouch for the
 * result: an unregistered model class, a reference to a layer the config lacks, a built model
 * whose topology does not say everything the saved one says (`saysAllOf`), weight names out of
 * the saved order, or a training config to restore. The caller then loads with stock tfjs.
 */
export function buildModel(
  parsed: ParsedModel,
  weights: Uint8Array,
  owned: boolean,
): LayersModel | null {
  const { json, specs } = parsed;
  const saved = modelConfig(json.modelTopology);
  if (saved === null || json.trainingConfig != null) return null;
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[saved.className];
  if (registered === undefined) return null;
  const [cls, fromConfig] = registered as unknown as [
    tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
    ModelFromConfig,
  ];
  const config = keysToCamel(saved.config);
  if (!referencesResolve(config)) return null;
  let model: LayersModel | null = null;
  try {
    const built = fromConfig(cls, config as tf.serialization.ConfigDict, {}, true);
    if (!(built instanceof LayersModel)) return null;
    model = built;
    const rebuilt = modelConfig(model.toJSON(null, false));
    const sameTopology =
      rebuilt !== null &&
      rebuilt.className === saved.className &&
      saysAllOf(rebuilt.config, saved.config);
    const names = model.weights.map((w) => w.originalName);
    const sameNames =
      names.length === specs.length && names.every((name, i) => name === specs[i]?.name);
    if (!sameTopology || !sameNames) {
      model.dispose();
      return null;
    }
  } catch {
    model?.dispose();
    return null;
  }
  try {
    writeDecoded(model, specs, weights, owned);
  } catch (error) {
    model.dispose();
    throw error;
  }
  if (json.userDefinedMetadata !== undefined) {
    model.setUserDefinedMetadata(json.userDefinedMetadata);
  }
  return model;
}
