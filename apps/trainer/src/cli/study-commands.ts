import { resolve } from 'node:path';
import { OnerunError } from '@onerun/core';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { expandPlan, type StudyJob } from '../study/jobs.js';
import { loadPlan } from '../study/plan.js';
import { runPool } from '../study/pool.js';
import { type RunCli, runStudyJob } from '../study/run-one.js';
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
  const study = program
    .command('study')
    .description(
      'studies: a plan of many jobs (train/compare runs) with claims and their verdict rules, run here, on a Redis queue or on Slurm, and one report',
    );

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
      'run every unfinished job of the plan on this machine (finished ones are skipped, interrupted ones resume)',
    )
    .argument('<plan>', 'study plan (JSON)')
    .requiredOption('--runs <dir>', 'runs folder: one run folder per job')
    .option(
      '--jobs <n>',
      'jobs at a time (TensorFlow threads split between them)',
      integer(1, MAX.jobs),
      1,
    )
    .option('--quiet', 'no progress lines')
    .action(async (planFile: string, opts: { runs: string; jobs: number; quiet?: boolean }) => {
      const jobs = expandPlan(loadPlan(planFile));
      const outcome = await runPool({
        planFile: resolve(planFile),
        runs: opts.runs,
        jobs,
        workers: opts.jobs,
        ...(opts.quiet ? {} : { progress: (line: string) => ctx.note(line) }),
      });
      ctx.print(
        `study: ${outcome.ran.length} ran, ${outcome.skipped.length} already done, ${outcome.failed.length} failed, ${outcome.blocked.length} not started, in ${outcome.seconds.toFixed(0)} s`,
      );
      if (outcome.failed.length > 0 || outcome.blocked.length > 0) {
        throw new StudyFailed(
          `${outcome.failed.map((f) => f.name).join(', ')}${outcome.blocked.length ? `; not started: ${outcome.blocked.join(', ')}` : ''} — fix the cause and run the same command again (finished jobs are kept)`,
        );
      }
    });

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
      const result = await runStudyJob(job, opts.runs, ctx.runCli);
      ctx.note(
        result.skipped
          ? `study: ${job.name} already done`
          : `study: ${job.name} done in ${result.record?.seconds.toFixed(1)} s`,
      );
    });
}

/** Some jobs of a study failed or could not start (exit 1). */
export class StudyFailed extends OnerunError {
  constructor(message: string) {
    super('STUDY_INCOMPLETE', message);
  }
}
