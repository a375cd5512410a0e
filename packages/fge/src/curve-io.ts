import { assertSameWeights, tensorSpecs, type WeightSpec } from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import { bezierCurve, type Curve, type CurveKind, polyChainCurve, straightLine } from './curve.js';
import { CurveFormatError } from './errors.js';

/** Format tag and version of `CurveManifest`. */
export const CURVE_FORMAT = 'onerun-curve';
export const CURVE_FORMAT_VERSION = 1;

/**
 * The JSON half of a saved curve. The binary half is the tensors in tfjs's weight encoding
 * (`tf.io.encodeWeights`: raw little-endian values concatenated in `weightsManifest` order), one
 * entry per weight of each stored control point, named `p<k>/<i>` (control point `k`: 0 = start,
 * 1 … numBends = bends, numBends + 1 = end; weight `i`). With `endsIncluded: false` only the
 * bends are stored and the ends are supplied when loading (e.g. from the snapshots they came from).
 */
export interface CurveManifest {
  format: typeof CURVE_FORMAT;
  version: typeof CURVE_FORMAT_VERSION;
  kind: CurveKind;
  numBends: number;
  endsIncluded: boolean;
  /** Shape and dtype of each weight on the curve. */
  weights: WeightSpec[];
  weightsManifest: tf.io.WeightsManifestEntry[];
  /** Length in bytes of the binary half. */
  byteLength: number;
  /** Free-form data saved with the curve, e.g. the snapshot ids of its ends. */
  meta?: Record<string, string | number | boolean>;
}

/** A curve as JSON manifest + binary weights, ready to write to two files or one store entry. */
export interface EncodedCurve {
  manifest: CurveManifest;
  data: ArrayBuffer;
}

/**
 * Encodes `curve` (its bends and, unless `includeEnds: false`, its ends) in the documented
 * `onerun-curve` format. Reads the tensors back from the device once.
 */
export async function encodeCurve(
  curve: Curve,
  options: { includeEnds?: boolean; meta?: Record<string, string | number | boolean> } = {},
): Promise<EncodedCurve> {
  const includeEnds = options.includeEnds ?? true;
  const last = curve.numBends + 1;
  const points: [number, readonly tf.Tensor[]][] = [
    ...(includeEnds ? [[0, curve.start] as [number, readonly tf.Tensor[]]] : []),
    ...curve.bends.map((b, k) => [k + 1, b] as [number, readonly tf.Tensor[]]),
    ...(includeEnds ? [[last, curve.end] as [number, readonly tf.Tensor[]]] : []),
  ];
  const named = points.flatMap(([k, ws]) =>
    ws.map((tensor, i) => ({ name: `p${k}/${i}`, tensor })),
  );
  const { data, specs } = await tf.io.encodeWeights(named);
  return {
    manifest: {
      format: CURVE_FORMAT,
      version: CURVE_FORMAT_VERSION,
      kind: curve.kind,
      numBends: curve.numBends,
      endsIncluded: includeEnds,
      weights: curve.specs.map((s) => ({ ...s, shape: [...s.shape] })),
      weightsManifest: specs,
      byteLength: data.byteLength,
      ...(options.meta ? { meta: { ...options.meta } } : {}),
    },
    data,
  };
}

function bad(message: string): never {
  throw new CurveFormatError(`Cannot decode curve: ${message}.`);
}

function checkManifest(m: CurveManifest): void {
  if (m?.format !== CURVE_FORMAT)
    bad(`format is ${JSON.stringify(m?.format)}, expected '${CURVE_FORMAT}'`);
  if (m.version !== CURVE_FORMAT_VERSION) {
    bad(`version ${JSON.stringify(m.version)} is not supported, expected ${CURVE_FORMAT_VERSION}`);
  }
  if (!['bezier', 'polychain', 'line'].includes(m.kind))
    bad(`unknown kind ${JSON.stringify(m.kind)}`);
  if (!Number.isInteger(m.numBends) || m.numBends < 0 || (m.kind === 'line' && m.numBends !== 0)) {
    bad(`numBends ${JSON.stringify(m.numBends)} does not fit kind '${m.kind}'`);
  }
  if (!Array.isArray(m.weights) || !Array.isArray(m.weightsManifest)) {
    bad('weights and weightsManifest must be arrays');
  }
}

/**
 * Rebuilds a curve from `encodeCurve`'s output (the manifest may come from `JSON.parse`). When the
 * ends were not stored, pass them as `start` and `end`; their shapes are checked. Throws
 * `CurveFormatError` for data that is not a complete curve of this format.
 */
export function decodeCurve(
  manifest: CurveManifest,
  data: ArrayBuffer,
  ends: { start?: readonly tf.Tensor[]; end?: readonly tf.Tensor[] } = {},
): Curve {
  checkManifest(manifest);
  if (!(data instanceof ArrayBuffer) || data.byteLength !== manifest.byteLength) {
    bad(
      `the binary part has ${data instanceof ArrayBuffer ? data.byteLength : 'no'} bytes, ` +
        `the manifest says ${manifest.byteLength}`,
    );
  }
  let decoded: tf.NamedTensorMap;
  try {
    decoded = tf.io.decodeWeights(data, manifest.weightsManifest);
  } catch (cause) {
    bad(`the weights do not decode (${(cause as Error).message})`);
  }
  const last = manifest.numBends + 1;
  const owned = Object.values(decoded);
  try {
    const point = (k: number): tf.Tensor[] =>
      manifest.weights.map((spec, i) => {
        const t = decoded[`p${k}/${i}`];
        if (!t) bad(`weight p${k}/${i} (${spec.name}) is missing`);
        return t;
      });
    const endPoint = (k: number, given: readonly tf.Tensor[] | undefined, which: string) => {
      if (manifest.endsIncluded) return point(k);
      if (!given) bad(`the ends were not stored; pass ends.${which}`);
      return given;
    };
    const start = endPoint(0, ends.start, 'start');
    const end = endPoint(last, ends.end, 'end');
    // The curve's constructor checks the end and the bends against the start.
    assertSameWeights(manifest.weights, tensorSpecs(start), 'stored curve vs its start');
    const bends = Array.from({ length: manifest.numBends }, (_, k) => point(k + 1));
    if (manifest.kind === 'line') return straightLine(start, end);
    const make = manifest.kind === 'bezier' ? bezierCurve : polyChainCurve;
    return make(start, end, bends);
  } finally {
    // The curve keeps its own copies (variables and clones).
    tf.dispose(owned);
  }
}
