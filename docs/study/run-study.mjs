// The runs behind docs/RESULTS.md (Results v2), in priority order, one at a time. Each job is one
// `onerun` command writing into its own folder under RUNS; a job whose `<name>.done.json` exists
// is skipped, any other is (re)started, and the app resumes it from its last checkpoint, so
// killing this script and starting it again loses at most an epoch.
//
//   node docs/study/run-study.mjs [--app DIR] [--runs DIR] [--only REGEX] [--list]
//
// --app: a built checkout of this repository (default: this one); --runs: where the run folders
// go (default tmp/study); --only: run just the jobs whose name matches; --list: print the plan.
// The native backend runs with one intra-op thread so the study leaves the second core free.
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { studyJobs } from './jobs.mjs';

const { values } = parseArgs({
  options: {
    app: { type: 'string', default: '.' },
    runs: { type: 'string', default: 'tmp/study' },
    only: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
});
const app = resolve(values.app);
const runs = resolve(values.runs);
const only = values.only ? new RegExp(values.only) : undefined;
const jobs = studyJobs().filter((job) => !only || only.test(job.name));

if (values.list) {
  for (const job of jobs) console.log(`${job.name}: onerun ${job.command.join(' ')}`);
  process.exit(0);
}

mkdirSync(runs, { recursive: true });
const commit = gitCommit(app);
const env = { ...process.env, TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' };

for (const job of jobs) {
  const done = join(runs, `${job.name}.done.json`);
  if (existsSync(done)) continue;
  if (job.needs?.some((name) => !existsSync(join(runs, `${name}.done.json`)))) {
    log(`skip ${job.name}: waits for ${job.needs.join(', ')}`);
    continue;
  }
  const args = job.command.map((a) => a.replaceAll('{runs}', runs));
  const out = join(runs, job.name);
  log(`start ${job.name}: onerun ${args.join(' ')}`);
  const started = Date.now();
  const outArgs = job.noOut ? [] : ['--out', out];
  const rc = await runCli([...args, '--quiet', '--json', ...outArgs], out);
  const seconds = (Date.now() - started) / 1000;
  log(`end ${job.name}: rc ${rc}, ${seconds.toFixed(0)} s`);
  if (rc !== 0) continue;
  writeFileSync(
    done,
    `${JSON.stringify({ name: job.name, command: ['onerun', ...args], commit, seconds, finished: new Date().toISOString() }, null, 2)}\n`,
  );
}
log('study: every job that could run has run');

function runCli(args, prefix) {
  return new Promise((resolveRc) => {
    const child = spawn(process.execPath, [join(app, 'apps/trainer/dist/cli.js'), ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(createWriteStream(`${prefix}.json`));
    child.stderr.pipe(createWriteStream(`${prefix}.err`));
    child.on('close', (code) => resolveRc(code ?? 1));
  });
}

function gitCommit(dir) {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function log(line) {
  console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
}
