// Fault injection against the built CLI: each defect of issue 14 reproduced as a test, then a
// seeded kill -9 campaign over `train` (SSE and FGE). Small synthetic data; every run here is a
// few seconds of CPU.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { seededRandom } from '@onerun/core';
import { FileSnapshotStore } from '@onerun/snapshots';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx } from '../src/data/idx.js';
import { RUN_LOCK_FILE } from '../src/run-folder/lock.js';
import { type MethodName, resolveConfig } from '../src/training/config.js';
import { planMethod } from '../src/training/plan.js';
import { onerunHere, SMALL, startOnerun } from './helpers.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onerun-faults-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

// 256 synthetic examples in batches of 64: 4 updates per epoch.
const TINY = ['--batch-size', '64', '--train-limit', '256', '--test-limit', '64'];
const RUNS: Record<'sse' | 'fge', string[]> = {
  sse: ['--method', 'sse', '--epochs', '6', '--cycles', '3', ...TINY],
  fge: ['--method', 'fge', '--epochs', '6', '--cycles', '2', ...TINY],
};
const train = (method: 'sse' | 'fge', out: string, extra: string[] = []) => [
  'train',
  ...SMALL,
  ...RUNS[method],
  '--out',
  out,
  ...extra,
];

/** The updates after which the plan collects a member (independent of any run). */
function plannedSteps(method: MethodName): number[] {
  const cycles = method === 'sse' ? 3 : 2;
  const config = resolveConfig({
    method,
    model: 'mlp',
    data: 'synthetic',
    epochs: 6,
    cycles,
    batchSize: 64,
  });
  const plan = planMethod(config, 256);
  const steps: number[] = [];
  for (let s = 0; s < plan.totalSteps; s++) if (plan.schedule.collectsAt?.(s)) steps.push(s + 1);
  return steps.slice(0, cycles);
}

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function progressOf(dir: string) {
  try {
    return await readJson(join(dir, 'progress.json'));
  } catch {
    return undefined;
  }
}

/** Starts `args`; kills it (SIGKILL) once `when` holds, or after `delayMs` once it holds the lock. */
async function killDuring(
  args: string[],
  dir: string,
  when: { progress?: (p: { checkpoint?: { epoch: number } }) => boolean; delayMs?: number },
): Promise<{ killed: boolean; code: number | null; stderr: string }> {
  const child = startOnerun(args);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    }),
  );
  await waitFor('the run to start', async () => {
    if (exited) return true;
    const lock = await readFile(join(dir, RUN_LOCK_FILE), 'utf8').catch(() => '');
    return lock.includes(`"pid":${child.pid},`);
  });
  if (when.progress) {
    const check = when.progress;
    await waitFor('the checkpoint', async () => exited || check((await progressOf(dir)) ?? {}));
  }
  if (when.delayMs) await sleep(when.delayMs);
  child.kill('SIGKILL');
  const { code, signal } = await exit;
  return { killed: signal === 'SIGKILL', code, stderr };
}

/** Every member and checkpoint listed in a run folder, each loaded (so checksum-verified). */
async function verifiedStores(dir: string) {
  const out: Record<string, { id: string; step: number; kind?: string }[]> = {};
  for (const name of ['snapshots', 'checkpoints']) {
    const store = new FileSnapshotStore(join(dir, name), { readOnly: true });
    out[name] = [];
    for (const entry of await store.list()) {
      const model = await store.load(entry.id);
      model.dispose();
      out[name]!.push({
        id: entry.id,
        step: entry.step,
        ...(entry.tags?.kind ? { kind: entry.tags.kind } : {}),
      });
    }
  }
  return out as { snapshots: { id: string; step: number; kind?: string }[] };
}

interface Metrics {
  models: number;
  result: Record<string, number>;
  members: { id: string; step: number; accuracy: number; nll: number }[];
}

const reference: Partial<Record<'sse' | 'fge', Metrics>> = {};

/** The uninterrupted run of `method` (trained once, in this process). */
async function referenceOf(method: 'sse' | 'fge'): Promise<Metrics> {
  if (!reference[method]) {
    const dir = join(root, `reference-${method}`);
    const r = await onerunHere(train(method, dir));
    expect(r.code, r.stderr).toBe(0);
    reference[method] = await readJson(join(dir, 'metrics.json'));
    const steps = reference[method]!.members.map((m) => m.step);
    expect(steps, 'the uninterrupted run collects where the plan says').toEqual(
      plannedSteps(method),
    );
  }
  return reference[method]!;
}

/** A finished run folder: exit 0, exactly the planned members, all verified, metrics as the reference. */
async function expectLikeReference(method: 'sse' | 'fge', dir: string) {
  const ref = await referenceOf(method);
  const progress = await readJson(join(dir, 'progress.json'));
  expect(progress.status).toBe('done');
  const stores = await verifiedStores(dir);
  const members = stores.snapshots.filter((m) => m.kind === 'member');
  // Besides its members, an FGE run keeps exactly one model: the one its cycles start from.
  const others = stores.snapshots.filter((m) => m.kind !== 'member').map((m) => m.kind);
  expect(others).toEqual(method === 'fge' ? ['start'] : []);
  expect(new Set(members.map((m) => m.id)).size).toBe(members.length);
  const metrics: Metrics = await readJson(join(dir, 'metrics.json'));
  expect(metrics.models).toBe(plannedSteps(method).length);
  expect(metrics.members.map((m) => m.step)).toEqual(plannedSteps(method));
  for (const key of ['accuracy', 'nll', 'ece', 'brier']) {
    expect(metrics.result[key], key).toBeCloseTo(ref.result[key]!, 5);
  }
  metrics.members.forEach((m, i) => {
    expect(m.nll, `member ${i} nll`).toBeCloseTo(ref.members[i]!.nll, 5);
  });
  await readFile(join(dir, 'report.html'));
}

let killed: Promise<string> | undefined;
/**
 * A copy of an SSE run folder killed (SIGKILL) after its third checkpoint: two checkpoints, a
 * member or two, and the dead process's run lock. Killed once, copied for each test.
 */
async function killedAfterEpoch3(name: string): Promise<string> {
  killed ??= (async () => {
    const dir = join(root, 'killed-sse');
    const cut = await killDuring(train('sse', dir), dir, {
      progress: (p) => (p.checkpoint?.epoch ?? 0) >= 3,
    });
    expect(cut.killed, cut.stderr).toBe(true);
    return dir;
  })();
  const copy = join(root, name);
  await cp(await killed, copy, { recursive: true });
  // Every resume below also takes over the lock the killed process left.
  expect(await readdir(copy)).toContain(RUN_LOCK_FILE);
  return copy;
}

describe('defect 1: a lost snapshots/manifest.json', () => {
  it('is rebuilt from the snapshot folders; the resumed run ends with exactly the planned members', async () => {
    const dir = await killedAfterEpoch3('d1');
    await rm(join(dir, 'snapshots', 'manifest.json'));
    const r = await onerunHere(train('sse', dir));
    expect(r.code, r.stderr).toBe(0);
    await expectLikeReference('sse', dir);
  });
});

describe('defect 2: two processes in one run folder', () => {
  it('the second fails at once with exit 2; the first finishes undisturbed', async () => {
    const dir = join(root, 'd2');
    const child = startOnerun(train('sse', dir));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    await waitFor('the first run to take the lock', async () =>
      (await readFile(join(dir, RUN_LOCK_FILE), 'utf8').catch(() => '')).includes(
        `"pid":${child.pid},`,
      ),
    );
    const second = await onerunHere(train('sse', dir));
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/\.onerun\.lock: a live process \(pid \d+\) has trained here/);
    expect(await exit).toBe(0);
    await expectLikeReference('sse', dir);
  });

  it('a second compare on the same --out fails at once; the first finishes undisturbed', async () => {
    const dir = join(root, 'd2-compare');
    const args = [
      'compare',
      ...SMALL,
      '--budget',
      '6',
      '--methods',
      'sse',
      '--no-curve',
      '--out',
      dir,
    ];
    const child = startOnerun(args);
    const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    await waitFor('the first comparison to take the lock', async () =>
      (await readFile(join(dir, RUN_LOCK_FILE), 'utf8').catch(() => '')).includes(
        `"pid":${child.pid},`,
      ),
    );
    const second = await onerunHere(args);
    expect(second.code).toBe(2);
    // The comparison's own lock, not a method's: the curve and the report have none of their own.
    expect(second.stderr).toContain(`${join(dir, RUN_LOCK_FILE)}: a live process`);
    expect(await exit).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'compare.json'), 'utf8')).status).toBe('done');
    expect(await readdir(dir)).not.toContain(RUN_LOCK_FILE);
  });

  it('a lock left by a killed process is taken over', async () => {
    const dir = await killedAfterEpoch3('d2-stale');
    const r = await onerunHere(train('sse', dir));
    expect(r.code, r.stderr).toBe(0);
    expect(await readdir(dir)).not.toContain(RUN_LOCK_FILE);
    await expectLikeReference('sse', dir);
  });
});

describe('defect 3: a lost progress.json', () => {
  it('starts over consistently instead of appending to the old snapshots', async () => {
    const dir = await killedAfterEpoch3('d3');
    await rm(join(dir, 'progress.json'));
    const r = await onerunHere(train('sse', dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no resume point recorded: the run starts over, replacing/);
    await expectLikeReference('sse', dir);
  });
});

describe('defect 4: finished is written last', () => {
  it('a folder killed after training but before metrics and report is completed without training', async () => {
    await referenceOf('sse');
    const dir = join(root, 'd4');
    await cp(join(root, 'reference-sse'), dir, { recursive: true });
    // What a kill right after the last checkpoint leaves: progress still running, no results.
    const progress = await readJson(join(dir, 'progress.json'));
    await writeFile(join(dir, 'progress.json'), JSON.stringify({ ...progress, status: 'running' }));
    await rm(join(dir, 'metrics.json'));
    await rm(join(dir, 'report.html'));
    const r = await onerunHere([...train('sse', dir), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).examplesPerSecond).toBe(0); // nothing was trained again
    expect((await readJson(join(dir, 'progress.json'))).history).toEqual(progress.history);
    await expectLikeReference('sse', dir);
  });
});

describe('defect 5: divergence', () => {
  it('--lr 1e308 stops with a typed error naming the update and the learning rate, exit 1', async () => {
    const dir = join(root, 'd5');
    const r = await onerunHere(train('sse', dir, ['--lr', '1e308']));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /Training diverged at update \d+: the (training loss is NaN|weights are no longer finite)\. The learning rate is the likely cause \(--lr 1e\+308/,
    );
    expect((await progressOf(dir))?.status).not.toBe('done');
  });
});

describe('defect 7: data files checked against each other before training', () => {
  async function dataDir(name: string, test: { dims: number[]; labels?: number }) {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const write = (file: string, dims: number[], fill: (i: number) => number) => {
      const n = dims.reduce((a, b) => a * b, 1);
      const bytes = encodeIdx(
        dims,
        Uint8Array.from({ length: n }, (_, i) => fill(i)),
      );
      return writeFile(join(dir, `${file}.gz`), gzipSync(bytes));
    };
    await write('train-images-idx3-ubyte', [8, 28, 28], (i) => i % 256);
    await write('train-labels-idx1-ubyte', [8], (i) => i % 10);
    await write('t10k-images-idx3-ubyte', test.dims, (i) => i % 256);
    await write('t10k-labels-idx1-ubyte', [test.dims[0]!], (i) => test.labels ?? i % 10);
    return dir;
  }
  const run = (data: string) =>
    onerunHere([
      'train',
      '--data-dir',
      data,
      '--backend',
      'cpu',
      '--quiet',
      '--out',
      join(data, 'run'),
    ]);

  it('test images of another size: exit 2 naming both files and both shapes, nothing trained', async () => {
    for (const [name, dims] of [
      ['d7-small', [4, 14, 14]],
      ['d7-tall', [2, 56, 28]],
    ] as const) {
      const data = await dataDir(name, { dims: [...dims] });
      const r = await run(data);
      expect(r.code, name).toBe(2);
      expect(r.stderr).toContain(
        `t10k-images-idx3-ubyte.gz holds ${dims[1]}×${dims[2]} images but`,
      );
      expect(r.stderr).toMatch(/train-images-idx3-ubyte\.gz holds 28×28/);
      expect(await readdir(join(data, 'run')).catch(() => [])).not.toContain('checkpoints');
    }
  });

  it('labels outside the classes: exit 2 naming the file and the label', async () => {
    const data = await dataDir('d7-labels', { dims: [4, 28, 28], labels: 12 });
    const r = await run(data);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /t10k-labels-idx1-ubyte\.gz: label 12 at index 0; expected labels 0…9/,
    );
  });

  it('a damaged gzip file: exit 2 naming the file', async () => {
    const data = await dataDir('d7-gzip', { dims: [4, 28, 28] });
    const file = join(data, 't10k-images-idx3-ubyte.gz');
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 20));
    const r = await run(data);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/t10k-images-idx3-ubyte\.gz is not a valid gzip file/);
  });

  it('a gzip bomb is refused while inflating (defect 11)', () => {
    const bomb = gzipSync(new Uint8Array(4 << 20));
    expect(bomb.length).toBeLessThan(10_000);
    expect(() => parseIdx(bomb, 'bomb.gz', 1 << 20)).toThrow(
      /bomb\.gz inflates to more than 1048576 bytes/,
    );
  });
});

describe('defect 8: signals and bounds', () => {
  it('SIGTERM ends a long training run (exit 143; the test timeout bounds the wait)', async () => {
    const dir = join(root, 'd8');
    const child = startOnerun(['train', ...SMALL, '--epochs', '10000', '--out', dir]);
    const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    await waitFor('the first checkpoint', async () => (await progressOf(dir)) !== undefined);
    child.kill('SIGTERM');
    expect(await exit).toBe(143);
  });

  it('SIGTERM ends curve training (exit 143; the test timeout bounds the wait)', async () => {
    await referenceOf('sse');
    const ref = join(root, 'reference-sse');
    const out = join(root, 'd8-curve');
    const child = startOnerun([
      'curve',
      `${ref}:snap-000001`,
      `${ref}:snap-000003`,
      '--out',
      out,
      '--epochs',
      '100000',
      '--backend',
      'cpu',
      '--quiet',
    ]);
    const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    // The folder appears right before curve training starts.
    await waitFor('curve training to start', async () => existsSync(out));
    await sleep(800);
    child.kill('SIGTERM');
    expect(await exit).toBe(143);
  });

  it('numeric options have upper bounds (exit 2 at once)', async () => {
    for (const args of [
      ['curve', 'a', 'b', '--out', join(root, 'c'), '--points', '10000000'],
      ['train', ...SMALL, '--epochs', '1e9', '--out', join(root, 'x')],
      ['train', ...SMALL, '--seed', String(2 ** 53 + 2), '--out', join(root, 'x')],
    ]) {
      const r = await onerunHere(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/Expected an integer in \[/);
    }
  });
});

describe('defect 9: a damaged latest checkpoint', () => {
  it('falls back to the older valid checkpoint, says so, and ends as the uninterrupted run', async () => {
    const dir = await killedAfterEpoch3('d9');
    const { checkpoint } = await readJson(join(dir, 'progress.json'));
    const file = join(dir, 'checkpoints', checkpoint.id, 'weights.bin');
    const bytes = await readFile(file);
    bytes[100] = bytes[100]! ^ 0x40;
    await writeFile(file, bytes);
    const r = await onerunHere(train('sse', dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        `checkpoint after epoch ${checkpoint.epoch} \\(${checkpoint.id}\\) cannot be used \\(.*checksum mismatch.*\\); resumed from the older checkpoint after epoch ${checkpoint.epoch - 1}`,
      ),
    );
    expect(r.stderr).toContain(`resumed from the checkpoint after epoch ${checkpoint.epoch - 1}`);
    await expectLikeReference('sse', dir);
  });
});

describe('defect 10: exit codes and messages', () => {
  it('bad option values exit 2 naming the value', async () => {
    const cases: [string[], RegExp][] = [
      [['--momentum', '5'], /momentum.*5/],
      [['--weight-decay', '-1'], /weightDecay.*-1/],
      [['--fge-lr1', '0.01', '--fge-lr2', '0.1'], /--fge-lr2 0\.1 must be below.*--fge-lr1 0\.01/],
    ];
    for (const [extra, pattern] of cases) {
      const r = await onerunHere(['train', ...SMALL, '--out', join(root, 'd10'), ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr).toMatch(pattern);
    }
  });

  it('a damaged config.json or progress.json exits 2 naming the file', async () => {
    await referenceOf('sse');
    for (const name of ['config.json', 'progress.json']) {
      const dir = join(root, `d10-${name}`);
      await cp(join(root, 'reference-sse'), dir, { recursive: true });
      await writeFile(join(dir, name), '{"onerun": 1, ');
      const r = await onerunHere(train('sse', dir));
      expect(r.code, name).toBe(2);
      expect(r.stderr).toContain(`${join(dir, name)} is not valid JSON`);
    }
  });

  it('compare gives advice in its own options', async () => {
    const r = await onerunHere([
      'compare',
      ...SMALL,
      '--methods',
      'sse',
      '--budget',
      '2',
      '--cycles',
      '4',
      '--out',
      join(root, 'd10-compare'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--budget ≥ 4 or --cycles ≤ 2/);
    expect(r.stderr).not.toContain('--epochs');
  });
});

describe('defect 11: paths the file system cannot hold', () => {
  it('--out /proc/x fails at once with exit 2', async () => {
    const r = await onerunHere(['train', ...SMALL, '--out', '/proc/onerun-test/x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out \/proc\/onerun-test\/x: cannot create \/proc\/onerun-test/);
  });
});

describe('kill -9 campaign', () => {
  // Seeded: the same kill moments on every run of the suite (up to the machine's timing).
  it.each(['sse', 'fge'] as const)(
    '%s: killed at random moments, every resume ends as the uninterrupted run',
    async (method) => {
      await referenceOf(method);
      const random = seededRandom(method === 'sse' ? 14 : 41);
      const dir = join(root, `campaign-${method}`);
      let kills = 0;
      let finished = false;
      for (let round = 0; round < 2 && !finished; round++) {
        const cut = await killDuring(train(method, dir), dir, { delayMs: 50 + random() * 2000 });
        if (!cut.killed) {
          // It ended before the kill came: that run must have succeeded.
          expect(cut.code, cut.stderr).toBe(0);
          finished = true;
          break;
        }
        kills++;
        // After each kill, before any resume: every listed snapshot and checkpoint verifies.
        const stores = await verifiedStores(dir);
        const steps = stores.snapshots.map((s) => s.step);
        expect(new Set(steps).size).toBe(steps.length);
      }
      if (!finished) {
        const r = await onerunHere(train(method, dir));
        expect(r.code, r.stderr).toBe(0);
      }
      await expectLikeReference(method, dir);
      expect(kills).toBeGreaterThan(0);
    },
  );
});
