import { InvalidArgumentError } from '@onerun/core';
import { describe, expect, it } from 'vitest';
import { checksumAlgorithm, createHasher, defaultChecksum, sha256 } from './checksum.js';
import { type NodeModules, nodeModules } from './node.js';

const text = (s: string) => new TextEncoder().encode(s);

describe('checksums', () => {
  it('match the standard check values, fed whole or in pieces', async () => {
    const node = await nodeModules();
    for (const pieces of [['123456789'], ['1234', '', '56789']]) {
      const crc = createHasher(node, 'crc32');
      const sha = createHasher(node, 'sha256');
      for (const piece of pieces) {
        crc.update(text(piece));
        sha.update(text(piece));
      }
      // CRC-32/ISO-HDLC and SHA-256 check values of "123456789".
      expect(crc.digest()).toBe('crc32:cbf43926');
      expect(sha.digest()).toBe(
        'sha256:15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225',
      );
    }
    // The WebCrypto path of MemorySnapshotStore gives the same string.
    expect(await sha256(text('123456789'))).toBe(
      'sha256:15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225',
    );
    expect(createHasher(node, 'crc32').digest()).toBe('crc32:00000000');
  });

  it('names the algorithm of a recorded checksum', () => {
    expect(checksumAlgorithm('crc32:cbf43926')).toBe('crc32');
    expect(checksumAlgorithm('sha256:ab')).toBe('sha256');
    expect(checksumAlgorithm('md5:ab')).toBeUndefined();
    expect(checksumAlgorithm('cbf43926')).toBeUndefined();
  });

  it('falls back to SHA-256 where Node has no zlib.crc32, and says why CRC-32 cannot be had', async () => {
    const node = await nodeModules();
    const old = { ...node, zlib: {} } as unknown as NodeModules;
    expect(defaultChecksum(node)).toBe('crc32');
    expect(defaultChecksum(old)).toBe('sha256');
    expect(() => createHasher(old, 'crc32')).toThrow(InvalidArgumentError);
    expect(() => createHasher(old, 'crc32')).toThrow(/zlib\.crc32/);
  });
});
