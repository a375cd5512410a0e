import { createHash } from 'node:crypto';

/**
 * SHA-256 over a list of byte arrays (each prefixed with its length, so the split between parts
 * counts), as `sha256:<hex>`: the identity of a data set's content.
 */
export function contentHash(parts: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(part.byteLength));
    hash.update(length);
    hash.update(part);
  }
  return `sha256:${hash.digest('hex')}`;
}
