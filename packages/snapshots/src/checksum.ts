import { InvalidArgumentError, UnsupportedEnvironmentError } from '@onerun/core';
import type { NodeModules } from './node.js';

/**
 * Checksum algorithms a snapshot file can be recorded with. A checksum is written as
 * `<algorithm>:<lowercase hex>`, so stores holding either kind verify both.
 * - `crc32`: CRC-32 (IEEE, as zip and gzip), through `node:zlib` (Node ≥ 20.15). Catches every
 *   error burst of up to 32 bits and misses random damage with probability 2⁻³²; ~3× faster than
 *   SHA-256 here, which is what keeps a save near raw-write speed. Not a defence against
 *   deliberate tampering.
 * - `sha256`: SHA-256, through `node:crypto`, or WebCrypto in `MemorySnapshotStore`.
 */
export type ChecksumAlgorithm = 'crc32' | 'sha256';

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['crc32', 'sha256'];

/** The algorithm a recorded checksum names, or `undefined` for one this package does not know. */
export function checksumAlgorithm(checksum: string): ChecksumAlgorithm | undefined {
  const name = checksum.slice(0, checksum.indexOf(':'));
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(name)
    ? (name as ChecksumAlgorithm)
    : undefined;
}

/** Incremental checksum of a byte stream. */
interface Hasher {
  update(bytes: Uint8Array): void;
  /** `<algorithm>:<hex>` of everything passed to `update`. */
  digest(): string;
}

type Crc32 = (data: Uint8Array, value?: number) => number;

function zlibCrc32(node: NodeModules): Crc32 | undefined {
  const crc32 = (node.zlib as { crc32?: unknown }).crc32;
  return typeof crc32 === 'function' ? (crc32 as Crc32) : undefined;
}

/** `crc32` where this Node has it (≥ 20.15 / 22.2), else `sha256`. */
export function defaultChecksum(node: NodeModules): ChecksumAlgorithm {
  return zlibCrc32(node) ? 'crc32' : 'sha256';
}

/** A hasher for `algorithm`; throws if this Node lacks `zlib.crc32` and `crc32` is asked for. */
export function createHasher(node: NodeModules, algorithm: ChecksumAlgorithm): Hasher {
  if (algorithm === 'sha256') {
    const hash = node.crypto.createHash('sha256');
    return {
      update: (bytes) => {
        hash.update(bytes);
      },
      digest: () => `sha256:${hash.digest('hex')}`,
    };
  }
  const crc32 = zlibCrc32(node);
  if (crc32 === undefined) {
    throw new InvalidArgumentError(
      'checksum',
      algorithm,
      `'sha256' on Node ${process.version}: CRC-32 needs zlib.crc32 (Node ≥ 20.15 or ≥ 22.2)`,
    );
  }
  let value = 0;
  return {
    update: (bytes) => {
      // zlib restarts at 0 for a null data pointer, which an empty view over an empty buffer
      // gives (Node 20.20: crc32(new TextEncoder().encode(''), v) === 0), so skip empty input.
      if (bytes.byteLength > 0) value = crc32(bytes, value);
    },
    digest: () => `crc32:${value.toString(16).padStart(8, '0')}`,
  };
}

function hex(digest: ArrayBuffer): string {
  const bytes = new Uint8Array(digest);
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/**
 * `sha256:<hex>` of `bytes`, computed with WebCrypto (`globalThis.crypto.subtle`, present in
 * Node ≥ 20 and in browsers on secure origins).
 */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) {
    throw new UnsupportedEnvironmentError(
      'WebCrypto (globalThis.crypto.subtle) is not available',
      'Node ≥ 20 or a browser page served over https or localhost',
    );
  }
  return `sha256:${hex(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))}`;
}
