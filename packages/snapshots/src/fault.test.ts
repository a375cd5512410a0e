import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@onerun/core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotNotFoundError } from './errors.js';
import { FileSnapshotStore } from './file-store.js';
import type { SnapshotEntry } from './store.js';
import { tempDir, weightArrays } from './test-helpers.js';

// The child runs this package's current source, transpiled here to plain ESM (no build needed),
// under node_modules/.cache so that it resolves @tensorflow/* like the package does.
const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '..');
const out = join(packageRoot, 'node_modules', '.cache', `fault-test-${process.pid}`);

async function transpile(srcDir: string, destDir: string, rewrite: Record<string, string>) {
  await mkdir(destDir, { recursive: true });
  for (const name of await readdir(srcDir)) {
    if (!name.endsWith('.ts') || name.endsWith('.test.ts') || name === 'test-helpers.ts') continue;
    let code = ts.transpileModule(await readFile(join(srcDir, name), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    for (const [from, to] of Object.entries(rewrite))
      code = code.replaceAll(`'${from}'`, `'${to}'`);
    await writeFile(join(destDir, name.replace(/\.ts$/, '.js')), code);
  }
}

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  const core = join(packageRoot, '..', 'core', 'src');
  await transpile(core, join(out, 'core'), {});
  await transpile(here, join(out, 'snapshots'), {
    '@onerun/core': '../core/index.js',
    '@onerun/schedules': '../schedules-unused.js',
  });
});
afterAll(async () => {
  await cleanup();
  await rm(out, { recursive: true, force: true });
});

function startChild(firstStep: number): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(
    process.execPath,
    [join(here, 'fault-child.mjs'), join(out, 'snapshots', 'file-store.js'), dir, `${firstStep}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      if (String(d).includes('ready')) resolve();
    });
    child.on('exit', (code, signal) =>
      reject(new Error(`child exited early (${code ?? signal}): ${stderr.slice(-2000)}`)),
    );
  });
  return { child, ready };
}

/** Loads and checks one listed snapshot; true if checked, false if deleted meanwhile. */
async function check(store: FileSnapshotStore, entry: SnapshotEntry): Promise<boolean> {
  let model: Awaited<ReturnType<FileSnapshotStore['load']>>;
  try {
    model = await store.load(entry.id);
  } catch (error) {
    if (error instanceof SnapshotNotFoundError) return false;
    throw error;
  }
  const arrays = await weightArrays(model);
  model.dispose();
  for (const a of arrays) {
    if (!a.every((v) => v === entry.step + 0.5)) {
      throw new Error(`snapshot ${entry.id} (step ${entry.step}) holds other weights: ${a[0]}`);
    }
  }
  return true;
}

describe('FileSnapshotStore survives SIGKILL at random points', () => {
  it('lists only whole snapshots, to a concurrent reader and after every crash', async () => {
    const random = seededRandom(2024);
    const reader = new FileSnapshotStore(dir, { readOnly: true });
    const deadline = Date.now() + 12_000;
    let kills = 0;
    let killedWhileLocked = 0;
    let leftoversSeen = 0;
    let concurrentChecks = 0;
    while (kills < 4 || (Date.now() < deadline && kills < 20)) {
      const { child, ready } = startChild(kills * 100_000);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await ready;
      // While the child writes, read as an evaluator would: list, load, verify.
      const killAt = Date.now() + 20 + random() * 250;
      while (Date.now() < killAt) {
        for (const entry of await reader.list()) {
          if (await check(reader, entry)) concurrentChecks++;
        }
      }
      child.kill('SIGKILL');
      await exited;
      kills++;
      const names = await readdir(dir);
      if (names.includes('.lock')) killedWhileLocked++;
      if (names.some((n) => n.startsWith('.tmp-') || n.startsWith('manifest.json.tmp-'))) {
        leftoversSeen++;
      }
      // After the crash, before any writer cleans up: every listed snapshot is whole.
      for (const entry of await reader.list()) expect(await check(reader, entry)).toBe(true);
    }
    // The kills really did land mid-save, and the reader really read while the writer wrote.
    expect(killedWhileLocked).toBeGreaterThan(0);
    expect(concurrentChecks).toBeGreaterThan(0);

    // A writer opening the store takes over the dead lock and removes the leftovers.
    const listed = await reader.list();
    expect(listed.length).toBeGreaterThan(0);
    const writer = await FileSnapshotStore.open(dir, { retain: { last: 4 } });
    expect(await writer.list()).toEqual(listed);
    expect((await readdir(dir)).sort()).toEqual(
      ['manifest.json', ...listed.map((e) => e.id)].sort(),
    );
    for (const entry of listed) expect(await check(writer, entry)).toBe(true);
    console.info(
      `fault test: ${kills} kills (${killedWhileLocked} holding the lock, ${leftoversSeen} ` +
        `leaving temporary files), ${concurrentChecks} verified loads while writing, ` +
        `${listed.length} snapshots listed at the end`,
    );
  });
});
