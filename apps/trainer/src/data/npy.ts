import { unzipSync } from 'fflate';
import { DataFormatError } from '../errors.js';
import { readDataFile } from './read-file.js';

/** Most bytes a `.npy`/`.npz` file may hold (2 GiB, as for IDX files). */
export const MAX_NPY_BYTES = 2 ** 31;

/** A NumPy array read from `.npy`: its shape, element type and values (C order). */
export interface NpyArray {
  shape: number[];
  /** NumPy's type string without byte order, e.g. `u1`, `f4`, `i8`. */
  dtype: string;
  /** Values: unsigned bytes as `Uint8Array`, other numbers as `Float32Array`/`Float64Array`/`Int32Array`. */
  data: Uint8Array | Int32Array | Float32Array | Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Bytes per element and how to read one, for the numeric types NumPy writes. */
const READERS: Record<
  string,
  { bytes: number; read: (v: DataView, o: number, le: boolean) => number }
> = {
  b1: { bytes: 1, read: (v, o) => v.getUint8(o) },
  u1: { bytes: 1, read: (v, o) => v.getUint8(o) },
  i1: { bytes: 1, read: (v, o) => v.getInt8(o) },
  u2: { bytes: 2, read: (v, o, le) => v.getUint16(o, le) },
  i2: { bytes: 2, read: (v, o, le) => v.getInt16(o, le) },
  u4: { bytes: 4, read: (v, o, le) => v.getUint32(o, le) },
  i4: { bytes: 4, read: (v, o, le) => v.getInt32(o, le) },
  u8: { bytes: 8, read: (v, o, le) => Number(v.getBigUint64(o, le)) },
  i8: { bytes: 8, read: (v, o, le) => Number(v.getBigInt64(o, le)) },
  f2: { bytes: 2, read: (v, o, le) => halfToFloat(v.getUint16(o, le)) },
  f4: { bytes: 4, read: (v, o, le) => v.getFloat32(o, le) },
  f8: { bytes: 8, read: (v, o, le) => v.getFloat64(o, le) },
};

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** The header dict's three fields, from NumPy's Python-literal syntax. */
function parseHeader(
  text: string,
  what: string,
): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined) {
    throw new DataFormatError(what, `${what} has an unreadable .npy header (${text.trim()}).`);
  }
  const dims = shape
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  return { descr, fortran: fortran === 'True', shape: dims };
}

/**
 * Parses the bytes of a `.npy` file (format versions 1–3) holding a numeric array in C order.
 * Unsigned bytes stay a view of `bytes`; other types are converted to float32 (floats), int32
 * (integers that fit) or float64 (wider integers). `what` names the file in errors.
 */
export function parseNpy(bytes: Uint8Array, what = 'NumPy array'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new DataFormatError(
      what,
      `${what} is not a .npy file (bad magic); expected NumPy's np.save format.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const { descr, fortran, shape } = parseHeader(header, what);
  if (fortran) {
    throw new DataFormatError(
      what,
      `${what} is stored in Fortran order; save it in C order (np.ascontiguousarray) and try again.`,
    );
  }
  const order = descr[0]!;
  const type = descr.slice(1);
  const reader = READERS[type];
  if (!reader || !'<>|='.includes(order)) {
    throw new DataFormatError(
      what,
      `${what} holds dtype '${descr}'; expected numbers (uint8, int8–int64, float16–float64, bool).`,
    );
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (bytes.length - offset < count * reader.bytes) {
    throw new DataFormatError(
      what,
      `${what} has ${bytes.length - offset} data bytes but shape (${shape.join(', ')}) of '${descr}' needs ${count * reader.bytes}; the file is truncated.`,
    );
  }
  if (type === 'u1' || type === 'b1') {
    return { shape, dtype: type, data: bytes.subarray(offset, offset + count) };
  }
  const le = order !== '>';
  const out =
    type === 'f2' || type === 'f4' || type === 'f8'
      ? type === 'f8'
        ? new Float64Array(count)
        : new Float32Array(count)
      : reader.bytes <= 2 || type === 'i4'
        ? new Int32Array(count)
        : new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = reader.read(view, offset + i * reader.bytes, le);
  return { shape, dtype: type, data: out };
}

/** Encodes a little-endian `.npy` (version 1) of `u1`, `i4`, `f4` or `f8` values: for tests and tools. */
export function encodeNpy(
  shape: readonly number[],
  data: Uint8Array | Int32Array | Float32Array | Float64Array,
): Uint8Array {
  const descr =
    data instanceof Uint8Array
      ? '|u1'
      : data instanceof Int32Array
        ? '<i4'
        : data instanceof Float32Array
          ? '<f4'
          : '<f8';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // NumPy pads the header with spaces and a newline so the data starts on a 64-byte boundary.
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/**
 * The arrays of an `.npz` (a zip of `.npy` files, as `np.savez` and `np.savez_compressed`
 * write), by name without the `.npy` suffix.
 */
export function parseNpz(bytes: Uint8Array, what = 'NumPy archive'): Map<string, NpyArray> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (error) {
    throw new DataFormatError(
      what,
      `${what} is not a readable .npz (zip) file (${(error as Error).message}); expected np.savez output.`,
    );
  }
  const arrays = new Map<string, NpyArray>();
  for (const [name, entry] of Object.entries(entries)) {
    if (!name.endsWith('.npy')) continue;
    arrays.set(name.slice(0, -4), parseNpy(entry, `${what}:${name}`));
  }
  return arrays;
}

/** Reads a `.npy` file. */
export async function readNpy(path: string): Promise<NpyArray> {
  return parseNpy(await readBytes(path), path);
}

/** Reads an `.npz` file. */
export async function readNpz(path: string): Promise<Map<string, NpyArray>> {
  return parseNpz(await readBytes(path), path);
}

function readBytes(path: string): Promise<Uint8Array> {
  return readDataFile(path, { maxBytes: MAX_NPY_BYTES, what: 'NumPy file' });
}
