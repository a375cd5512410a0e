import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelFitError } from '../errors.js';
import type { ModelModule } from './factory.js';

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/**
 * Seeds every initializer in a Layers topology from the run's `seed` (in layer order), so a
 * `model.json` without weights starts from the same weights on every build — what a resumed run
 * needs — and runs of different seeds (a comparison's independent runs) start from different ones.
 */
function seedInitializers(topology: unknown, seed: number): unknown {
  let k = 0;
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (node === null || typeof node !== 'object') return node;
    const obj = node as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(obj)) out[key] = visit(value);
    const config = out.config as Record<string, unknown> | undefined;
    if (typeof out.class_name === 'string' && config && 'seed' in config) {
      out.config = { ...config, seed: (seed * 7919 + ++k * 104729) % 2147483647 };
    }
    return out;
  };
  return visit(topology);
}

/**
 * A tfjs Layers `model.json` (from `model.save`, or a Keras model converted with the official
 * converter) as a model module: its topology is the architecture; the weights its manifest names,
 * when the files are there, are the starting point of every build (fine-tuning). The data's
 * `inputShape` and `classes` are not used to build it: the app checks that the model fits.
 */
export async function layersJsonModule(
  path: string,
): Promise<{ module: ModelModule; bytes: Uint8Array[]; hasWeights: boolean }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ModelFitError(`--model ${path} cannot be read (${(error as Error).message}).`);
  }
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (error) {
    throw new ModelFitError(
      `--model ${path} is not valid JSON (${(error as Error).message}); expected a tfjs Layers model.json.`,
    );
  }
  const topology = json.modelTopology as
    | { model_config?: unknown; class_name?: unknown }
    | undefined;
  if (
    !topology ||
    typeof topology !== 'object' ||
    (json.format !== undefined && json.format !== 'layers-model')
  ) {
    throw new ModelFitError(
      `--model ${path} is not a tfjs Layers model (format ${json.format ?? 'missing'}, ${topology ? 'with' : 'no'} modelTopology); expected model.json from model.save() or tensorflowjs_converter --output_format tfjs_layers_model.`,
    );
  }
  const bytes: Uint8Array[] = [new TextEncoder().encode(text)];
  const specs = (json.weightsManifest ?? []).flatMap((g) => g.weights);
  let weightData: ArrayBuffer | undefined;
  if (json.weightsManifest && specs.length > 0) {
    const parts: Uint8Array[] = [];
    for (const group of json.weightsManifest) {
      for (const p of group.paths) {
        const file = join(dirname(path), p);
        try {
          parts.push(new Uint8Array(await readFile(file)));
        } catch (error) {
          throw new ModelFitError(
            `--model ${path} names weight file ${file}, which cannot be read (${(error as Error).message}).`,
          );
        }
      }
    }
    bytes.push(...parts);
    const total = parts.reduce((a, b) => a + b.length, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const part of parts) {
      all.set(part, o);
      o += part.length;
    }
    weightData = all.buffer;
  }
  const decoded = weightData ? tf.io.decodeWeights(weightData, specs) : undefined;
  const module: ModelModule = {
    createModel: async ({ tf: handed, seed }) => {
      const model = await handed.models.modelFromJSON({
        modelTopology: seedInitializers(topology, seed) as Parameters<
          typeof handed.models.modelFromJSON
        >[0] & { modelTopology?: never },
      });
      if (decoded) {
        // Weights by name, as tfjs matches them when it loads a model.json.
        const byName = new Map(Object.entries(decoded));
        const missing = model.weights.filter((w) => !byName.has(w.originalName));
        if (missing.length > 0) {
          model.dispose();
          throw new ModelFitError(
            `--model ${path}: its weight files lack ${missing.map((w) => w.originalName).join(', ')}; save the model again with model.save().`,
          );
        }
        model.loadWeights(
          Object.fromEntries(
            model.weights.map((w) => [w.originalName, byName.get(w.originalName)!]),
          ),
        );
      }
      return model;
    },
  };
  return { module, bytes, hasWeights: decoded !== undefined };
}
