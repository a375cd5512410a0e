import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { requireInteger } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { ModelFitError, UsageError } from '../errors.js';
import * as cnn from './builtin/cnn.js';
import * as mlp from './builtin/mlp.js';
import { DEFAULT_PRERESNET_DEPTH, isPreResNetDepth, preResNet } from './builtin/preresnet.js';
import type { ModelModule } from './factory.js';
import { checkModelFits } from './fit-checks.js';
import { layersJsonModule } from './layers-json.js';

/** The models shipped with the app (model modules like any other). `preresnet<depth>` names a depth. */
export const MODEL_NAMES = ['mlp', 'cnn', 'preresnet'] as const;

/** What `--model` names: a built-in (`mlp`, `cnn`, `preresnet`, `preresnet56`, …) or an absolute path. */
export type ModelSpec = string;

/** Where a run's model came from, recorded in `config.json` (a resume rebuilds the same model). */
export interface ModelSourceRecord {
  kind: 'builtin' | 'module' | 'layers-json';
  /** The built-in's name, or the file's absolute path. */
  name: string;
  /** SHA-256 of the file (a `model.json`: it and its weight files), for files. */
  sha256?: string;
  /** A `model.json` with weights: training starts from them. */
  pretrained?: boolean;
}

const PRERESNET = /^preresnet(\d+)?$/;

function builtinModule(spec: string): ModelModule | undefined {
  if (spec === 'mlp') return mlp;
  if (spec === 'cnn') return cnn;
  const m = PRERESNET.exec(spec);
  if (!m) return undefined;
  const depth = m[1] === undefined ? DEFAULT_PRERESNET_DEPTH : Number(m[1]);
  if (!isPreResNetDepth(depth)) {
    throw new UsageError(
      `--model ${spec}: a pre-activation ResNet's depth is 6n + 2 (8, 14, 20, 32, 44, 56, 110, …); got ${depth}.`,
    );
  }
  return { createModel: preResNet(depth) };
}

/**
 * Checks `--model`: a built-in name, or a path to a `model.json` or an ES module (`.js`/`.mjs`)
 * that exists (made absolute, as the run folder records it).
 */
export function parseModelName(value: string): ModelSpec {
  if (builtinModule(value)) return value;
  const path = resolve(value);
  if (existsSync(path)) return path;
  throw new UsageError(
    `--model '${value}' is neither a built-in model (${MODEL_NAMES.join(', ')}, preresnet<6n+2>) nor an existing file (${path}); give a name, a tfjs model.json or a .js/.mjs module exporting createModel.`,
  );
}

/** A model that `--model` resolved to: its module and where it came from. */
interface ResolvedModel {
  module: ModelModule;
  source: ModelSourceRecord;
}

const resolved = new Map<ModelSpec, Promise<ResolvedModel>>();

function sha256(parts: Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest('hex');
}

async function resolveModel(spec: ModelSpec): Promise<ResolvedModel> {
  const builtin = builtinModule(spec);
  if (builtin) return { module: builtin, source: { kind: 'builtin', name: spec } };
  if (spec.toLowerCase().endsWith('.json')) {
    const { module, bytes, hasWeights } = await layersJsonModule(spec);
    return {
      module,
      source: {
        kind: 'layers-json',
        name: spec,
        sha256: sha256(bytes),
        ...(hasWeights ? { pretrained: true } : {}),
      },
    };
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(spec));
  } catch (error) {
    throw new ModelFitError(`--model ${spec} cannot be read (${(error as Error).message}).`);
  }
  let loaded: Partial<ModelModule>;
  try {
    loaded = (await import(pathToFileURL(spec).href)) as Partial<ModelModule>;
  } catch (error) {
    throw new ModelFitError(
      `--model ${spec} cannot be imported as an ES module (${(error as Error).message}); expected a .js/.mjs file exporting createModel({ tf, inputShape, classes, seed }), or a model.json.`,
    );
  }
  if (typeof loaded.createModel !== 'function') {
    throw new ModelFitError(
      `--model ${spec} exports no createModel function (exports: ${Object.keys(loaded).join(', ') || 'none'}); export createModel({ tf, inputShape, classes, seed }) returning an uncompiled tf.LayersModel.`,
    );
  }
  return {
    module: loaded as ModelModule,
    source: { kind: 'module', name: spec, sha256: sha256([bytes]) },
  };
}

function resolveOnce(spec: ModelSpec): Promise<ResolvedModel> {
  let found = resolved.get(spec);
  if (!found) {
    found = resolveModel(spec);
    // A failed resolution is not cached: the file may be fixed and the command run again.
    found.catch(() => resolved.delete(spec));
    resolved.set(spec, found);
  }
  return found;
}

/** Where `spec`'s model comes from (file hash included), for `config.json`. */
export async function modelSource(spec: ModelSpec): Promise<ModelSourceRecord> {
  return (await resolveOnce(spec)).source;
}

/** What a model is built for. */
export interface ModelOptions {
  inputShape: readonly number[];
  classes: number;
  /** Seeds every initializer. */
  seed: number;
}

/** A short name of a model for messages: the built-in's name, or `--model <path>`. */
function labelOf(spec: ModelSpec): string {
  return builtinModule(spec) ? `model ${spec}` : `--model ${spec}`;
}

/**
 * Builds the model `spec` names for the data (one code path for built-ins, modules and
 * `model.json` files) and checks that it fits: a `tf.LayersModel` of the app's tfjs, one input
 * of `inputShape`, a softmax over `classes`. Throws `ModelFitError` otherwise.
 */
export async function buildModel(spec: ModelSpec, options: ModelOptions): Promise<tf.LayersModel> {
  requireInteger('classes', options.classes, 2);
  const { module } = await resolveOnce(spec);
  const label = labelOf(spec);
  let model: unknown;
  try {
    model = await module.createModel({
      tf,
      inputShape: [...options.inputShape],
      classes: options.classes,
      seed: options.seed,
    });
  } catch (error) {
    if (error instanceof ModelFitError || error instanceof UsageError) throw error;
    throw new ModelFitError(`${label}: createModel failed (${(error as Error).message}).`);
  }
  try {
    checkModelFits(model, label, options.inputShape, options.classes);
  } catch (error) {
    if (model instanceof tf.LayersModel) model.dispose();
    throw error;
  }
  return model;
}
