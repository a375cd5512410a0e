import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StudyResults } from '../src/study/collect.js';
import { CLI, onerun } from './helpers.js';

const hasRedis = (() => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, ms = 600_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** A real redis-server on a free port, its data in `dir` (append-only file: it survives a restart). */
function startRedis(port: number, dir: string): ChildProcess {
  return spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
    ],
    {
      stdio: 'ignore',
    },
  );
}

async function redisReady(port: number): Promise<void> {
  await until('redis', () => {
    try {
      return (
        execFileSync('redis-cli', ['-p', String(port), 'ping'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim() === 'PONG'
      );
    } catch {
      return false;
    }
  });
}

/** A worker process, its stderr kept. */
function startWorker(url: string, runs: string) {
  const child = spawn(
    process.execPath,
    [CLI, 'worker', '--queue', url, '--runs', runs, '--lock-seconds', '3'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return { child, stderr: () => stderr };
}

function plan(dir: string): string {
  const file = join(dir, 'plan.json');
  writeFileSync(
    file,
    JSON.stringify({
      onerunStudy: 1,
      name: 'queue study',
      data: { name: 'synthetic', trainLimit: 256, testLimit: 64 },
      model: 'mlp',
      options: { backend: 'cpu', batchSize: 32, lr: 0.05, evalEvery: 0 },
      groups: [
        {
          id: 'core',
          budgets: [4],
          seeds: { count: 2 },
          methods: ['baseline', 'swa'],
          options: { swaStart: 3 },
        },
        { id: 'deep', kind: 'deep-ensemble', of: 'core', members: 2, budgets: [4], seeds: [0] },
      ],
      claims: [],
    }),
  );
  return file;
}

const scores = (path: string) =>
  (JSON.parse(readFileSync(path, 'utf8')) as StudyResults).rows
    .map(({ trainSeconds: _t, ...row }) => row)
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
});

describe.skipIf(!hasRedis)('onerun study on a BullMQ queue (a real redis-server)', () => {
  it('survives a worker killed mid-job and a Redis restart: every job once, results equal to a local run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'study-queue-'));
    const file = plan(dir);
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    let redis = startRedis(port, dir);
    started.push(redis);
    await redisReady(port);

    const runs = join(dir, 'runs');
    const queued = await onerun(['study', 'run', file, '--queue', url, '--no-wait']);
    expect(queued.code).toBe(0);
    expect(queued.stderr).toMatch(/3 jobs on redis:\/\//);

    const a = startWorker(url, runs);
    started.push(a.child);
    // Worker A takes a job; once that job has a checkpoint, A is killed without warning.
    await until('worker A to take a job', () => /: (\S+) \(attempt 1\)/.test(a.stderr()));
    const held = /: (\S+) \(attempt 1\)/.exec(a.stderr())?.[1] as string;
    await until(
      'a checkpoint of that job',
      () =>
        existsSync(join(runs, held, 'baseline', 'checkpoints')) &&
        readdirSync(join(runs, held, 'baseline', 'checkpoints')).length > 0,
    );
    const b = startWorker(url, runs);
    started.push(b.child);
    a.child.kill('SIGKILL');

    // Redis goes down and comes back (its append-only file keeps the queue).
    await until('worker B to take a job', () => /\(attempt \d\)/.test(b.stderr()));
    redis.kill('SIGTERM');
    await new Promise((r) => redis.once('exit', r));
    redis = startRedis(port, dir);
    started.push(redis);
    await redisReady(port);

    const waited = await onerun(['study', 'run', file, '--queue', url]);
    expect(waited.code).toBe(0);
    expect(waited.stdout).toMatch(/study: 3 done, 0 failed/);
    expect(b.stderr()).toMatch(new RegExp(`${held} \\(attempt`));

    // Each job trained to the end exactly once (a duplicate delivery would say "already done").
    for (const name of ['mlp-b4-s0-core', 'mlp-b4-s10-core', 'mlp-b4-s0-deep']) {
      const log = readFileSync(join(runs, `${name}.log`), 'utf8');
      expect(log.match(/ done in /g)).toHaveLength(1);
    }

    const local = join(dir, 'local');
    expect((await onerun(['study', 'run', file, '--runs', local, '--quiet'])).code).toBe(0);
    expect((await onerun(['study', 'report', runs, '--plan', file])).code).toBe(0);
    expect((await onerun(['study', 'report', local, '--plan', file])).code).toBe(0);
    expect(scores(join(runs, 'results.json'))).toEqual(scores(join(local, 'results.json')));
    b.child.kill('SIGTERM');
  }, 1_200_000);
});
