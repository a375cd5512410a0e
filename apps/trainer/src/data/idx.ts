import { gunzipSync } from 'node:zlib';
import { IdxFormatError } from '../errors.js';
import { readDataFile } from './read-file.js';

/** A parsed IDX file: its dimensions and its unsigned-byte payload (a view, not a copy). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;
/**
 * Most bytes a gzipped IDX file may inflate to (checked while inflating, so a small "gzip bomb"
 * is refused before it fills memory): 2 GiB, over 40× the full Fashion-MNIST training set.
 */
export const MAX_IDX_BYTES = 2 ** 31;

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses IDX bytes (gzipped or not; detected from the gzip magic). Only the unsigned-byte type
 * that MNIST-style data sets use is accepted. The returned `data` is a view into the
 * (decompressed) buffer.
 */
export function parseIdx(bytes: Uint8Array, what = 'IDX data', maxBytes = MAX_IDX_BYTES): IdxArray {
  const raw = isGzip(bytes) ? inflate(bytes, what, maxBytes) : bytes;
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) {
    throw new IdxFormatError(
      `${what} is not an IDX file (bad magic number); expected an MNIST-style IDX file.`,
    );
  }
  const type = raw[2]!;
  const ndims = raw[3]!;
  if (type !== UBYTE) {
    throw new IdxFormatError(
      `${what} holds IDX type 0x${type.toString(16)}; expected unsigned bytes (0x08).`,
    );
  }
  const headerBytes = 4 + 4 * ndims;
  if (ndims === 0 || raw.length < headerBytes) {
    throw new IdxFormatError(`${what} has a truncated IDX header (${raw.length} bytes).`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (raw.length - headerBytes !== count) {
    throw new IdxFormatError(
      `${what} has ${raw.length - headerBytes} data bytes but its header [${dims.join(', ')}] ` +
        `says ${count}; the file is truncated or corrupt.`,
    );
  }
  return { dims, data: raw.subarray(headerBytes) };
}

function inflate(bytes: Uint8Array, what: string, maxBytes: number): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new IdxFormatError(
      code === 'ERR_BUFFER_TOO_LARGE'
        ? `${what} inflates to more than ${maxBytes} bytes; expected an IDX data file.`
        : `${what} is not a valid gzip file (${(error as Error).message}); expected a gzipped IDX file.`,
    );
  }
}

/** Reads an IDX file's bytes (`.gz` or plain) with `readDataFile`'s checks, unparsed. */
export function readIdxBytes(path: string): Promise<Uint8Array> {
  return readDataFile(path, { maxBytes: MAX_IDX_BYTES, what: 'IDX file' });
}

/** Reads and parses an IDX file (`.gz` or plain). */
export async function readIdxFile(path: string): Promise<IdxArray> {
  return parseIdx(await readIdxBytes(path), path);
}

/** Encodes unsigned bytes as IDX (for tests and tools); `gzip` is up to the caller. */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new IdxFormatError(
      `IDX dims [${dims.join(', ')}] need ${count} bytes; got ${data.length}.`,
    );
  }
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = UBYTE;
  out[3] = dims.length;
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  out.set(data, 4 + 4 * dims.length);
  return out;
}
