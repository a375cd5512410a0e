// Issue 28, defect 18: the file system's refusals (a store folder that is a file, a full disk)
// are typed errors naming the path, not a raw EEXIST or "ENOSPC … write".
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SnapshotWriteError } from './errors.js';
import { FileSnapshotStore } from './file-store.js';
import type { NodeModules } from './node.js';
import { tempDir, tinyModel } from './test-helpers.js';

const fullDisk = { on: false };

vi.mock('./node.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('./node.js')>();
  return {
    ...original,
    nodeModules: async (): Promise<NodeModules> => {
      const node = await original.nodeModules();
      const open = (async (...args: Parameters<NodeModules['fs']['open']>) => {
        const handle = await node.fs.open(...args);
        return new Proxy(handle, {
          get(target, prop) {
            if (prop === 'write' && fullDisk.on) {
              return async () => {
                throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
                  code: 'ENOSPC',
                });
              };
            }
            const value = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      }) as NodeModules['fs']['open'];
      return { ...node, fs: { ...node.fs, open } };
    },
  };
});

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  fullDisk.on = false;
});
afterEach(async () => cleanup());

describe('write errors name the path', () => {
  it('a store whose folder is a file', async () => {
    const path = join(dir, 'a-file');
    await writeFile(path, 'not a folder');
    const model = tinyModel();
    const error = await new FileSnapshotStore(path).save(model, { step: 1 }).catch((e) => e);
    expect(error).toBeInstanceOf(SnapshotWriteError);
    expect((error as Error).message).toContain(`create the snapshot store folder ${path}`);
    expect((error as Error).message).toMatch(/it is a file, not a folder/);
    model.dispose();
  });

  it('a full disk', async () => {
    const store = new FileSnapshotStore(join(dir, 'store'));
    const model = tinyModel();
    await store.save(model, { step: 1 });
    fullDisk.on = true;
    const error = await store.save(model, { step: 2 }).catch((e) => e);
    expect(error).toBeInstanceOf(SnapshotWriteError);
    expect((error as SnapshotWriteError).systemCode).toBe('ENOSPC');
    expect((error as Error).message).toContain(
      `save snapshot 'snap-000002' into ${join(dir, 'store')}`,
    );
    expect((error as Error).message).toMatch(/free space on its disk/);
    fullDisk.on = false;
    expect((await store.list()).map((e) => e.id)).toEqual(['snap-000001']);
    model.dispose();
  });
});
