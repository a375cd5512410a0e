import { assertSameWeights, type WeightSpec, weightSpecs, writeWeights } from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import { type LayersModel, loadLayersModel, version_layers } from '@tensorflow/tfjs-layers';
import { OptimizerStateError, SnapshotCorruptError } from './errors.js';
import type { SnapshotFile } from './store.js';

/** File names inside a snapshot folder (the first two are what stock tfjs reads). */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const OPTIMIZER_JSON = 'optimizer.json';
export const OPTIMIZER_BIN = 'optimizer.bin';

export const OPTIMIZER_FORMAT = 'onerun-optimizer-state';
const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };

/** A file about to be written: its bytes as a list of views (no copy of the weights is made). */
export interface PendingFile {
  name: string;
  chunks: Uint8Array[];
  byteSize: number;
}

/** A model serialized into the files of one snapshot. */
interface EncodedSnapshot {
  /** `weights.bin` first, then `model.json`, then the optimizer files if any. */
  files: PendingFile[];
  hasOptimizer: boolean;
}

/** Where a file of a snapshot lives, for error messages (a path or just the file name). */
export type Locate = (name: string) => string;

function bytesOf(values: tf.TypedArray | Uint8Array[] | string[], name: string): Uint8Array {
  if (ArrayBuffer.isView(values)) {
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  }
  throw new OptimizerStateError(
    `Weight '${name}' is not numeric; expected float32, int32 or bool.`,
  );
}

function textFile(name: string, value: unknown): PendingFile {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return { name, chunks: [bytes], byteSize: bytes.byteLength };
}

async function encodeTensors(
  named: readonly { name: string; tensor: tf.Tensor }[],
  group: 'model' | 'optimizer',
): Promise<{ specs: tf.io.WeightsManifestEntry[]; chunks: Uint8Array[]; byteSize: number }> {
  const specs: tf.io.WeightsManifestEntry[] = named.map(({ name, tensor }) => {
    if (!(tensor.dtype in BYTES_PER_ELEMENT)) {
      throw new OptimizerStateError(
        `Weight '${name}' has dtype ${tensor.dtype}; expected float32, int32 or bool.`,
      );
    }
    const spec: tf.io.WeightsManifestEntry = {
      name,
      shape: [...tensor.shape],
      dtype: tensor.dtype as 'float32' | 'int32' | 'bool',
    };
    if (group === 'optimizer') spec.group = 'optimizer';
    return spec;
  });
  const values = await Promise.all(named.map(({ tensor }) => tensor.data()));
  const chunks = values.map((v, i) => bytesOf(v, named[i]!.name));
  return { specs, chunks, byteSize: chunks.reduce((s, c) => s + c.byteLength, 0) };
}

/**
 * Serializes `model` (and optionally its optimizer state) into snapshot files. The weights are
 * captured synchronously when this is called (clones share the variables' storage, and tfjs
 * replaces rather than overwrites a variable's storage on update), so training that goes on
 * while the bytes are read does not tear the snapshot.
 */
export async function encodeSnapshot(
  model: LayersModel,
  includeOptimizer: boolean,
): Promise<EncodedSnapshot> {
  const variables = model.weights;
  const captured = variables.map((v) => ({ name: v.originalName, tensor: tf.clone(v.read()) }));
  const owned: tf.Tensor[] = captured.map((c) => c.tensor);
  try {
    const topology = model.toJSON(null, false);
    let optimizerFiles: PendingFile[] = [];
    if (includeOptimizer) {
      const optimizer = model.optimizer;
      if (optimizer == null) {
        throw new OptimizerStateError(
          'includeOptimizer: true but the model has no optimizer; expected a compiled model.',
        );
      }
      let state: Awaited<ReturnType<tf.Optimizer['getWeights']>>;
      try {
        state = await optimizer.getWeights();
      } catch (cause) {
        throw new OptimizerStateError(
          `The ${optimizer.getClassName()} optimizer cannot export its state ` +
            `(${(cause as Error).message}); expected SGD, Momentum, Adam, RMSProp, Adagrad or Adadelta.`,
        );
      }
      const capturedState = state.map(({ name, tensor }) => {
        const copy = tf.clone(tensor);
        owned.push(copy);
        // getWeights() returns live slot variables plus a freshly made iteration scalar.
        if (!(tensor instanceof tf.Variable)) tensor.dispose();
        return { name, tensor: copy };
      });
      const encoded = await encodeTensors(capturedState, 'optimizer');
      optimizerFiles = [
        { name: OPTIMIZER_BIN, chunks: encoded.chunks, byteSize: encoded.byteSize },
        textFile(OPTIMIZER_JSON, {
          format: OPTIMIZER_FORMAT,
          version: 1,
          className: optimizer.getClassName(),
          config: optimizer.getConfig(),
          weightsManifest: [{ paths: [OPTIMIZER_BIN], weights: encoded.specs }],
        }),
      ];
    }
    const weights = await encodeTensors(captured, 'model');
    const modelJson: tf.io.ModelJSON = {
      modelTopology: topology as tf.io.ModelJSON['modelTopology'],
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${version_layers}`,
      convertedBy: null,
      weightsManifest: [{ paths: [WEIGHTS_BIN], weights: weights.specs }],
    };
    return {
      files: [
        { name: WEIGHTS_BIN, chunks: weights.chunks, byteSize: weights.byteSize },
        textFile(MODEL_JSON, modelJson),
        ...optimizerFiles,
      ],
      hasOptimizer: includeOptimizer,
    };
  } finally {
    // The byte views stay valid: disposing only drops tfjs's reference to the storage.
    for (const t of owned) t.dispose();
  }
}

/** Throws `SnapshotCorruptError` unless `bytes` match the recorded size and checksum. */
export function verifyFile(
  id: string,
  where: string,
  expected: SnapshotFile,
  byteSize: number,
  checksum: string,
): void {
  if (byteSize !== expected.byteSize) {
    throw new SnapshotCorruptError(
      id,
      where,
      byteSize < expected.byteSize
        ? `truncated: ${byteSize} of ${expected.byteSize} bytes`
        : `${byteSize} bytes where ${expected.byteSize} were written`,
    );
  }
  if (checksum !== expected.checksum) {
    throw new SnapshotCorruptError(
      id,
      where,
      `checksum mismatch: recorded ${expected.checksum}, found ${checksum}`,
    );
  }
}

export function parseJson(id: string, where: string, bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new SnapshotCorruptError(id, where, `not valid JSON (${(cause as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SnapshotCorruptError(id, where, 'not a JSON object');
  }
  return value as Record<string, unknown>;
}

export function parseManifest(
  id: string,
  where: string,
  manifest: unknown,
  binName: string,
): { specs: tf.io.WeightsManifestEntry[]; byteSize: number } {
  const groups = manifest as { paths?: unknown; weights?: unknown }[] | undefined;
  if (
    !Array.isArray(groups) ||
    groups.length !== 1 ||
    !Array.isArray(groups[0]?.paths) ||
    groups[0].paths.length !== 1 ||
    groups[0].paths[0] !== binName ||
    !Array.isArray(groups[0].weights)
  ) {
    throw new SnapshotCorruptError(
      id,
      where,
      `weightsManifest is not one group with paths ['${binName}']`,
    );
  }
  let byteSize = 0;
  const specs = groups[0].weights as tf.io.WeightsManifestEntry[];
  for (const spec of specs) {
    const per = BYTES_PER_ELEMENT[spec?.dtype as string];
    if (
      typeof spec?.name !== 'string' ||
      !Array.isArray(spec.shape) ||
      !spec.shape.every((d) => Number.isInteger(d) && d >= 0) ||
      per === undefined
    ) {
      throw new SnapshotCorruptError(id, where, `malformed weight spec ${JSON.stringify(spec)}`);
    }
    byteSize += per * spec.shape.reduce((a, b) => a * b, 1);
  }
  return { specs, byteSize };
}

/** The parsed `model.json` of a verified snapshot. */
export interface ParsedModel {
  json: tf.io.ModelJSON;
  specs: tf.io.WeightsManifestEntry[];
}

/** Parses a verified `model.json` and checks that its manifest describes `weightsByteSize` bytes. */
export function parseModelJson(
  id: string,
  locate: Locate,
  bytes: Uint8Array,
  weightsByteSize: number,
): ParsedModel {
  const where = locate(MODEL_JSON);
  const json = parseJson(id, where, bytes);
  if (typeof json.modelTopology !== 'object' || json.modelTopology === null) {
    throw new SnapshotCorruptError(id, where, 'no modelTopology');
  }
  const { specs, byteSize } = parseManifest(id, where, json.weightsManifest, WEIGHTS_BIN);
  if (byteSize !== weightsByteSize) {
    throw new SnapshotCorruptError(
      id,
      where,
      `weightsManifest describes ${byteSize} bytes but ${WEIGHTS_BIN} has ${weightsByteSize}`,
    );
  }
  return { json: json as unknown as tf.io.ModelJSON, specs };
}

/** An `ArrayBuffer` holding exactly `bytes` (the same memory when it already is one). */
export function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
  ) {
    return bytes.buffer;
  }
  return bytes.slice().buffer as ArrayBuffer;
}

/** The `tf.io.ModelArtifacts` of a parsed snapshot, for `tf.io.fromMemory`. */
export function toArtifacts(parsed: ParsedModel, weights: Uint8Array): tf.io.ModelArtifacts {
  const { json } = parsed;
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: parsed.specs,
    weightData: exactArrayBuffer(weights),
  };
  if (json.format !== undefined) artifacts.format = json.format;
  if (json.generatedBy !== undefined) artifacts.generatedBy = json.generatedBy;
  if (json.convertedBy !== undefined) artifacts.convertedBy = json.convertedBy;
  if (json.userDefinedMetadata !== undefined) {
    artifacts.userDefinedMetadata = json.userDefinedMetadata;
  }
  return artifacts;
}

/** Builds an uncompiled model from verified artifacts with stock tfjs. */
export function modelFromArtifacts(artifacts: tf.io.ModelArtifacts): Promise<LayersModel> {
  return loadLayersModel(tf.io.fromMemory(artifacts));
}

/**
 * Decodes tensors in spec order. With `copy: false` a tensor whose bytes are suitably aligned is
 * a view into `bytes` (no copy; the tensors then keep `bytes` alive), which is safe only when
 * nobody else holds `bytes`; otherwise each tensor gets its own copy.
 */
export function decodeTensors(
  specs: readonly tf.io.WeightsManifestEntry[],
  bytes: Uint8Array,
  copy = true,
): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  let offset = bytes.byteOffset;
  try {
    for (const spec of specs) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const per = BYTES_PER_ELEMENT[spec.dtype]!;
      const view = !copy && offset % per === 0;
      const buffer = view ? bytes.buffer : bytes.buffer.slice(offset, offset + size * per);
      const start = view ? offset : 0;
      const values =
        spec.dtype === 'float32'
          ? new Float32Array(buffer, start, size)
          : spec.dtype === 'int32'
            ? new Int32Array(buffer, start, size)
            : new Uint8Array(buffer, start, size);
      offset += size * per;
      out.push(tf.tensor(values, spec.shape, spec.dtype as 'float32' | 'int32' | 'bool'));
    }
  } catch (error) {
    tf.dispose(out);
    throw error;
  }
  return out;
}

/**
 * Writes the weights in `bytes` into `model` in spec order (shapes checked before anything is
 * written). With `owned`, nobody else holds `bytes` and the tensors view it instead of copying.
 */
export function writeDecoded(
  model: LayersModel,
  specs: readonly tf.io.WeightsManifestEntry[],
  bytes: Uint8Array,
  owned: boolean,
): void {
  const tensors = decodeTensors(specs, bytes, !owned);
  try {
    writeWeights(model, tensors);
  } finally {
    tf.dispose(tensors);
  }
}

/** Checks that the snapshot's weights fit `model` position by position (names may differ). */
export function assertFits(id: string, parsed: ParsedModel, model: LayersModel): void {
  const saved: WeightSpec[] = parsed.specs.map((s) => ({
    name: s.name,
    shape: [...s.shape],
    dtype: s.dtype,
  }));
  assertSameWeights(saved, weightSpecs(model), `snapshot '${id}' vs model`);
}
