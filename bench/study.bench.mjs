// onerun study: the local pool with N jobs against one job at a time (target: wall time within
// 10% of the sum of job times / N), and the Redis queue with two workers against one (target:
// at least 1.8x the jobs per hour). Small synthetic jobs on the cpu backend, each a process of
// its own, as a study runs them. Needs a built app; the queue part needs redis-server.
//
//   node bench/study.bench.mjs [--jobs-in-plan 4] [--workers 2]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    'jobs-in-plan': { type: 'string', default: '4' },
    workers: { type: 'string', default: '2' },
  },
});
const JOBS = Number(values['jobs-in-plan']);
const N = Number(values.workers);
const CLI = fileURLToPath(new URL('../apps/trainer/dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'study-bench-'));
const plan = join(dir, 'plan.json');
writeFileSync(
  plan,
  JSON.stringify({
    onerunStudy: 1,
    name: 'bench',
    data: { name: 'synthetic', trainLimit: 512, testLimit: 128 },
    model: 'mlp',
    options: { backend: 'cpu', batchSize: 32, evalEvery: 0 },
    groups: [{ id: 'b', budgets: [3], seeds: { count: JOBS }, methods: ['baseline'] }],
    claims: [],
  }),
);

const run = (args) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`onerun ${args.join(' ')}: exit ${code}`)),
    );
  });
const timed = async (fn) => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

const one = await timed(() =>
  run(['study', 'run', plan, '--runs', join(dir, 'pool-1'), '--jobs', '1', '--quiet']),
);
const many = await timed(() =>
  run(['study', 'run', plan, '--runs', join(dir, `pool-${N}`), '--jobs', String(N), '--quiet']),
);
console.log(
  `local pool: ${JOBS} jobs; one at a time ${one.toFixed(1)} s (the sum of job times); --jobs ${N} ${many.toFixed(1)} s`,
);
console.log(
  `  --jobs ${N} wall / (sum / ${N}) = ${(many / (one / N)).toFixed(2)} (target <= 1.10)`,
);

let redisServer = false;
try {
  execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  redisServer = true;
} catch {
  console.log('queue: redis-server not installed; skipped');
}
if (redisServer) {
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await new Promise((r) => setTimeout(r, 500));
  const url = `redis://127.0.0.1:${port}`;
  const campaign = async (workers, name) => {
    const runs = join(dir, name);
    const procs = Array.from({ length: workers }, () =>
      spawn(
        process.execPath,
        [CLI, 'worker', '--queue', url, '--runs', runs, '--queue-name', name],
        { stdio: 'ignore' },
      ),
    );
    try {
      return await timed(() =>
        run(['study', 'run', plan, '--queue', url, '--queue-name', name, '--quiet']),
      );
    } finally {
      for (const p of procs) p.kill('SIGTERM');
    }
  };
  const w1 = await campaign(1, 'q1');
  const w2 = await campaign(N, `q${N}`);
  const perHour = (s) => (JOBS / s) * 3600;
  console.log(
    `queue: ${JOBS} jobs; 1 worker ${w1.toFixed(1)} s (${perHour(w1).toFixed(0)} jobs/h); ${N} workers ${w2.toFixed(1)} s (${perHour(w2).toFixed(0)} jobs/h)`,
  );
  console.log(`  ${N} workers / 1 worker, jobs per hour = ${(w1 / w2).toFixed(2)} (target >= 1.8)`);
  redis.kill('SIGTERM');
}
