import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '@onerun/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PendingFile } from './artifacts.js';
import { writeDurably } from './durable-file.js';
import { type NodeModules, nodeModules } from './node.js';
import { tempDir } from './test-helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

function bytes(size: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length: size }, () => Math.floor(random() * 256));
}

/** Large and small chunks, as a model's weights come: kernels, then biases and BN vectors. */
function pendingFile(): { file: PendingFile; content: Uint8Array } {
  const chunks = [bytes(1 << 20, 1), bytes(100, 2), bytes(600 << 10, 3), bytes(12, 4)];
  const content = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    content.set(c, offset);
    offset += c.byteLength;
  }
  return { file: { name: 'weights.bin', chunks, byteSize: content.byteLength }, content };
}

type Event = 'write' | 'datasync-start' | 'datasync' | 'datasync-failed' | 'close';

/** Node modules whose file handles log writes, flushes and closes, and fail chosen flushes. */
async function loggingNode(failFlush: (n: number) => boolean = () => false) {
  const node = await nodeModules();
  const events: Event[] = [];
  let flushes = 0;
  const fs = {
    ...node.fs,
    open: async (...args: Parameters<NodeModules['fs']['open']>) => {
      const handle = await node.fs.open(...args);
      return new Proxy(handle, {
        get(target, prop) {
          if (prop === 'write') {
            return (...a: unknown[]) => {
              events.push('write');
              return (target.write as (...x: unknown[]) => unknown)(...a);
            };
          }
          if (prop === 'datasync') {
            return async () => {
              events.push('datasync-start');
              flushes += 1;
              await target.datasync();
              if (failFlush(flushes)) {
                events.push('datasync-failed');
                throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
              }
              events.push('datasync');
            };
          }
          if (prop === 'close') {
            return async () => {
              events.push('close');
              await target.close();
            };
          }
          const value = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
  };
  return { node: { ...node, fs } as NodeModules, events };
}

describe('writeDurably', () => {
  it('writes every byte, flushes while writing and once after the last write', async () => {
    const { node, events } = await loggingNode();
    const { file, content } = pendingFile();
    const path = join(dir, 'weights.bin');
    const written = await writeDurably(node, path, file, 'sha256', {
      writeBlock: 64 << 10,
      flushEvery: 128 << 10,
    });
    const onDisk = await readFile(path);
    expect(Buffer.compare(onDisk, Buffer.from(content))).toBe(0);
    expect(written).toEqual({
      name: 'weights.bin',
      byteSize: content.byteLength,
      checksum: `sha256:${createHash('sha256').update(content).digest('hex')}`,
    });
    // 1 MB in 16 blocks of 64 KB, the staged 100 bytes, 600 KB in 10 blocks, the last 12 bytes.
    expect(events.filter((e) => e === 'write')).toHaveLength(28);
    // Flushes began while later blocks were written (how soon one ends is up to the disk and
    // the machine's load), and a last one began after the last write.
    const lastWrite = events.lastIndexOf('write');
    expect(events.slice(0, lastWrite)).toContain('datasync-start');
    const lastFlush = events.lastIndexOf('datasync-start');
    expect(lastFlush).toBeGreaterThan(lastWrite);
    expect(events.slice(lastFlush + 1)).toEqual(['datasync', 'close']);
  });

  it('issue 28 defect 21: a file smaller than the flush interval is flushed once, after its write and before close', async () => {
    const { node, events } = await loggingNode();
    const content = bytes(100, 5);
    const path = join(dir, 'small.bin');
    await writeDurably(
      node,
      path,
      { name: 'small.bin', chunks: [content], byteSize: 100 },
      'crc32',
      {
        writeBlock: 64 << 10,
        flushEvery: 128 << 10,
      },
    );
    expect(Buffer.compare(await readFile(path), Buffer.from(content))).toBe(0);
    // No background flush ever starts (100 bytes < 128 KB): only the final one makes it durable.
    expect(events).toEqual(['write', 'datasync-start', 'datasync', 'close']);
  });

  it('fails with a background flush error even when later flushes succeed', async () => {
    const { node, events } = await loggingNode((n) => n === 2);
    const { file } = pendingFile();
    const attempt = writeDurably(node, join(dir, 'weights.bin'), file, 'crc32', {
      writeBlock: 64 << 10,
      flushEvery: 128 << 10,
    });
    await expect(attempt).rejects.toMatchObject({ code: 'EIO' });
    expect(events).toContain('datasync-failed');
    // The handle is closed once, after every flush has settled.
    expect(events.filter((e) => e === 'close')).toHaveLength(1);
    expect(events.at(-1)).toBe('close');
  });
});
