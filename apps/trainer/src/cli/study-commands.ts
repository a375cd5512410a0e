import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { OnerunError } from '@onerun/core';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../run-folder/files.js';
import { initPlan } from '../study/init.js';
import { expandPlan, type StudyJob } from '../study/jobs.js';
import { loadPlan } from '../study/plan.js';
import { runPool } from '../study/pool.js';
import {
  DEFAULT_QUEUE,
  enqueuePlan,
  planForQueue,
  redisConnection,
  startWorker,
  waitForJobs,
} from '../study/queue.js';
import { studyReport } from '../study/report.js';
import { type RunCli, runStudyJob } from '../study/run-one.js';
import { type SlurmOptions, slurmScript } from '../study/slurm.js';
import { integer, MAX } from './parse-values.js';

/** What the study commands need from the program: its output and an in-process `onerun`. */
export interface StudyCliContext {
  print(line?: string): void;
  note(line: string): void;
  runCli: RunCli;
}

/** The job of `--index` (or `--name`) in the plan's list. */
function pickJob(jobs: StudyJob[], index: number | undefined, name: string | undefined): StudyJob {
  if (name !== undefined) {
    const job = jobs.find((j) => j.name === name);
    if (!job)
      throw new UsageError(`--name ${name}: no such job in the plan (see onerun study list PLAN)`);
    return job;
  }
  if (index === undefined) throw new UsageError('pass --index I (0-based) or --name JOB');
  const job = jobs[index];
  if (!job)
    throw new UsageError(
      `--index ${index}: the plan has ${jobs.length} jobs (indices 0 to ${jobs.length - 1})`,
    );
  return job;
}

/** `onerun study …`: plans of many jobs with pre-registered claims. */
export function addStudy(program: Command, ctx: StudyCliContext): void {
  const study: Command = program
    .command('study')
    .description(
      'studies: a plan of many jobs (train/compare runs) with claims and their verdict rules, run here, on a Redis queue or on Slurm, and one report',
    );

  addInit(study, ctx);
  study
    .command('list')
    .description("print the plan's jobs: index, name and command")
    .argument('<plan>', 'study plan (JSON)')
    .option('--json', 'the jobs as JSON')
    .action((planFile: string, opts: { json?: boolean }) => {
      const jobs = expandPlan(loadPlan(planFile));
      if (opts.json) {
        ctx.print(JSON.stringify(jobs, null, 2));
        return;
      }
      for (const j of jobs) ctx.print(`${j.index}\t${j.name}\tonerun ${j.args.join(' ')}`);
    });

  study
    .command('run')
    .description(
      'run every unfinished job of the plan on this machine (finished ones are skipped, interrupted ones resume), or queue them on Redis for onerun worker processes',
    )
    .argument('<plan>', 'study plan (JSON)')
    .option(
      '--runs <dir>',
      'runs folder: one run folder per job (with --queue: skip the jobs done there)',
    )
    .option(
      '--jobs <n>',
      'jobs at a time (TensorFlow threads split between them)',
      integer(1, MAX.jobs),
      1,
    )
    .option(
      '--queue <redis-url>',
      'enqueue the jobs on this Redis (redis://HOST:PORT) for onerun worker',
    )
    .option('--queue-name <name>', 'BullMQ queue name', DEFAULT_QUEUE)
    .option('--no-wait', 'with --queue: return once the jobs are queued')
    .option('--quiet', 'no progress lines')
    .action(
      async (
        planFile: string,
        opts: {
          runs?: string;
          jobs: number;
          queue?: string;
          queueName: string;
          wait: boolean;
          quiet?: boolean;
        },
      ) => {
        const progress = opts.quiet ? {} : { progress: (line: string) => ctx.note(line) };
        if (opts.queue) {
          const plan = planForQueue(planFile, opts.queue);
          const queued = await enqueuePlan({
            plan,
            url: opts.queue,
            queueName: opts.queueName,
            ...(opts.runs ? { runs: opts.runs } : {}),
          });
          ctx.note(
            `study: ${queued.ids.length} jobs on ${opts.queue} (queue ${opts.queueName})${queued.skipped.length ? `, ${queued.skipped.length} already done` : ''}; start workers with onerun worker --queue ${opts.queue} --runs DIR`,
          );
          if (!opts.wait) return;
          const { failed } = await waitForJobs({
            url: opts.queue,
            queueName: opts.queueName,
            ids: queued.ids,
            ...progress,
          });
          ctx.print(`study: ${queued.ids.length - failed.length} done, ${failed.length} failed`);
          if (failed.length > 0)
            throw new StudyFailed(failed.map((f) => `${f.name} (${f.message})`).join(', '));
          return;
        }
        if (!opts.runs) throw new UsageError('pass --runs DIR (or --queue redis://HOST:PORT)');
        const jobs = expandPlan(loadPlan(planFile));
        const outcome = await runPool({
          planFile: resolve(planFile),
          runs: opts.runs,
          jobs,
          workers: opts.jobs,
          ...progress,
        });
        ctx.print(
          `study: ${outcome.ran.length} ran, ${outcome.skipped.length} already done, ${outcome.failed.length} failed, ${outcome.blocked.length} not started, in ${outcome.seconds.toFixed(0)} s`,
        );
        if (outcome.failed.length > 0 || outcome.blocked.length > 0) {
          throw new StudyFailed(
            `${outcome.failed.map((f) => f.name).join(', ')}${outcome.blocked.length ? `; not started: ${outcome.blocked.join(', ')}` : ''} — fix the cause and run the same command again (finished jobs are kept)`,
          );
        }
      },
    );

  study
    .command('run-one')
    .description(
      'run one job of the plan (a Slurm array task, a queue worker): skipped when finished, resumed when interrupted',
    )
    .argument('<plan>', 'study plan (JSON)')
    .requiredOption('--runs <dir>', 'runs folder')
    .option('--index <i>', "the job's index (0-based; e.g. $SLURM_ARRAY_TASK_ID)", integer(0))
    .option('--name <job>', "the job's name")
    .action(async (planFile: string, opts: { runs: string; index?: number; name?: string }) => {
      const job = pickJob(expandPlan(loadPlan(planFile)), opts.index, opts.name);
      // Started by a pool or a queue worker (an IPC channel): end with it, even when it is killed.
      if (process.send) {
        process.once('disconnect', () => process.exit(143));
        // The channel alone must not keep this process alive once the job is done: the pool
        // waits for the child's exit, and the child would wait for the channel.
        process.channel?.unref();
      }
      const result = await runStudyJob(job, opts.runs, ctx.runCli);
      ctx.note(
        result.skipped
          ? `study: ${job.name} already done`
          : `study: ${job.name} done in ${result.record?.seconds.toFixed(1)} s`,
      );
    });
  addReport(study, ctx);
  addSlurm(study, ctx);
}

/** `onerun worker`: takes study jobs from a Redis queue. */
export function addWorker(program: Command, ctx: StudyCliContext): void {
  program
    .command('worker')
    .description(
      'take study jobs from a Redis queue (onerun study run --queue) and train them into a shared runs folder',
    )
    .requiredOption('--queue <redis-url>', 'the Redis the jobs are queued on (redis://HOST:PORT)')
    .requiredOption('--runs <dir>', 'runs folder every worker shares')
    .option('--queue-name <name>', 'BullMQ queue name', DEFAULT_QUEUE)
    .option(
      '--concurrency <n>',
      'jobs at a time in this worker (TensorFlow threads split between them)',
      integer(1, MAX.jobs),
      1,
    )
    .option(
      '--lock-seconds <s>',
      "how long a job stays this worker's without a sign of life before another worker takes it",
      integer(1),
      30,
    )
    .action(
      async (opts: {
        queue: string;
        runs: string;
        queueName: string;
        concurrency: number;
        lockSeconds: number;
      }) => {
        redisConnection(opts.queue);
        const { worker } = startWorker({
          url: opts.queue,
          runs: opts.runs,
          queueName: opts.queueName,
          concurrency: opts.concurrency,
          lockMs: opts.lockSeconds * 1000,
          log: (line) => ctx.note(line),
        });
        ctx.note(
          `worker: waiting for jobs on ${opts.queue} (queue ${opts.queueName}); runs in ${resolve(opts.runs)}`,
        );
        // Runs until the process is stopped (Ctrl-C, SIGTERM): a job it held is taken by another.
        await new Promise<void>((done) => worker.on('closed', () => done()));
      },
    );
}

/** `onerun study slurm`: an `sbatch --array` script. */
function addSlurm(study: Command, ctx: StudyCliContext): void {
  study
    .command('slurm')
    .description(
      'write an sbatch --array script whose task i runs job i of the plan (study run-one)',
    )
    .argument('<plan>', 'study plan (JSON)')
    .requiredOption('--runs <dir>', 'runs folder on a filesystem every node shares')
    .option('--out <file>', 'where the script goes', 'study.sbatch')
    .option('--cpus <n>', 'CPUs per task (TensorFlow threads)', integer(1, MAX.jobs), 1)
    .option('--partition <name>', 'Slurm partition')
    .option('--time <limit>', 'wall time per task, e.g. 02:00:00')
    .option('--mem <size>', 'memory per task, e.g. 8G')
    .option('--max-parallel <k>', 'tasks running at once', integer(1))
    .option('--force', 'overwrite an existing script')
    .action(
      async (
        planFile: string,
        opts: SlurmOptions & { runs: string; out: string; force?: boolean },
      ) => {
        const plan = loadPlan(planFile);
        const jobs = expandPlan(plan);
        if (existsSync(opts.out) && !opts.force)
          throw new UsageError(
            `${opts.out} exists; pass --force to overwrite it, or choose another --out`,
          );
        await mkdir(resolve(opts.runs), { recursive: true });
        await writeFileAtomic(
          opts.out,
          slurmScript(plan, planFile, opts.runs, jobs, opts, opts.out),
        );
        await chmod(opts.out, 0o755);
        ctx.print(`wrote ${opts.out}: ${jobs.length} array tasks; submit with sbatch ${opts.out}`);
      },
    );
}

/** `onerun study report`: results.json, verdicts, HTML and Markdown. */
function addReport(study: Command, ctx: StudyCliContext): void {
  study
    .command('report')
    .description(
      "collect the plan's finished runs into results.json, judge its claims, write report.html and summary.md",
    )
    .argument('[runs]', 'runs folder of the study (not needed with --from)')
    .requiredOption('--plan <file>', 'the study plan')
    .option(
      '--from <results.json>',
      'judge a results.json collected before instead of the runs folder',
    )
    .option(
      '--out <dir>',
      'where results.json, report.html, summary.md go (default: the runs folder)',
    )
    .option('--into <file.md>', 'also write the summary between the markers of this Markdown file')
    .option('--json', 'print the verdicts as JSON')
    .action(
      async (
        runs: string | undefined,
        opts: { plan: string; from?: string; out?: string; into?: string; json?: boolean },
      ) => {
        const out = opts.out ?? runs;
        if (!out) throw new UsageError('pass the runs folder, or --out with --from');
        if (!runs && !opts.from)
          throw new UsageError('pass the runs folder, or --from results.json');
        const outcome = await studyReport({
          plan: loadPlan(opts.plan),
          ...(runs && !opts.from ? { runs } : {}),
          ...(opts.from ? { from: opts.from } : {}),
          out,
          ...(opts.into ? { into: opts.into } : {}),
        });
        if (opts.json) {
          ctx.print(
            JSON.stringify(
              {
                command: 'study report',
                ...outcome,
                claims: outcome.claims.map((c) => ({
                  id: c.claim.id,
                  claim: c.claim.claim,
                  metric: c.claim.metric,
                  n: c.stats.n,
                  mean: c.stats.mean,
                  ci95: c.stats.ci95,
                  negative: c.stats.negative,
                  verdict: c.verdict.verdict,
                })),
              },
              null,
              2,
            ),
          );
          return;
        }
        for (const c of outcome.claims)
          ctx.print(
            `${c.claim.id}\t${outcome.pending ? 'waits for every job' : c.verdict.verdict}\t${c.claim.claim}`,
          );
        ctx.print(
          `${outcome.finished} jobs finished${outcome.pending ? `, ${outcome.pending} still to run (no verdicts yet)` : ''}; results: ${outcome.results}; report: ${outcome.html}; summary: ${outcome.markdown}${outcome.into ? `; updated ${outcome.into}` : ''}`,
        );
      },
    );
}

/** `onerun study init FILE`: the Results v2 plan as a start, for the user's own model and data. */
function addInit(study: Command, ctx: StudyCliContext): void {
  study
    .command('init')
    .description(
      "write a starting plan: the papers' claims as Results v2 tests them, for your model and data",
    )
    .argument('<file>', 'the plan file to write')
    .option('--model <name|file>', "the model every group trains (default: the plan's mlp and cnn)")
    .option('--data <name|path>', 'the data set (default fashion-mnist)')
    .option('--data-dir <dir>', 'where the data set is')
    .option('--force', 'overwrite an existing file')
    .action(
      async (
        file: string,
        opts: { model?: string; data?: string; dataDir?: string; force?: boolean },
      ) => {
        const written = await initPlan(file, opts);
        ctx.print(
          `wrote ${written.file}: ${written.jobs} jobs, ${written.claims} claims; check it with onerun study list ${file}`,
        );
      },
    );
}

/** Some jobs of a study failed or could not start (exit 1). */
export class StudyFailed extends OnerunError {
  constructor(message: string) {
    super('STUDY_INCOMPLETE', message);
  }
}
