import { resolve } from 'node:path';
import type { StudyJob } from './jobs.js';
import type { StudyPlan } from './plan.js';
import { cliScript } from './pool.js';

/** Resources each array task asks Slurm for. */
export interface SlurmOptions {
  partition?: string;
  /** Wall time per task (`--time`, e.g. `02:00:00`). */
  time?: string;
  cpus: number;
  /** Memory per task (`--mem`, e.g. `8G`). */
  mem?: string;
  /** Tasks running at once (`%K` of `--array`). */
  maxParallel?: number;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * An `sbatch` script whose array task i runs job i of the plan
 * (`onerun study run-one PLAN --runs DIR --index $SLURM_ARRAY_TASK_ID`), each into its own run
 * folder under `runs` (a filesystem every node shares). The array covers the training jobs; deep
 * ensembles, which score other jobs' runs, are a second submission of the same script that
 * starts after the first (`--dependency=afterok`), as the header says. A task that is requeued or
 * submitted again resumes its job from its checkpoints, and skips it when it is done.
 */
export function slurmScript(
  plan: StudyPlan,
  planFile: string,
  runs: string,
  jobs: StudyJob[],
  options: SlurmOptions,
  file = 'study.sbatch',
): string {
  const training = jobs.filter((j) => j.needs.length === 0).length;
  const throttle = options.maxParallel ? `%${options.maxParallel}` : '';
  const name = `onerun-${plan.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40)}`.replace(/-+$/, '');
  const runsDir = resolve(runs);
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=${name}`,
    `#SBATCH --array=0-${training - 1}${throttle}`,
    `#SBATCH --cpus-per-task=${options.cpus}`,
    ...(options.partition ? [`#SBATCH --partition=${options.partition}`] : []),
    ...(options.time ? [`#SBATCH --time=${options.time}`] : []),
    ...(options.mem ? [`#SBATCH --mem=${options.mem}`] : []),
    `#SBATCH --output=${runsDir}/slurm-%A_%a.log`,
    `# ${plan.name}: ${jobs.length} jobs (written by onerun study slurm).`,
    ...(training < jobs.length
      ? [
          `# Jobs 0-${training - 1} train; jobs ${training}-${jobs.length - 1} score deep ensembles of their runs. Submit both:`,
          `#   jid=$(sbatch --parsable ${file})`,
          `#   sbatch --dependency=afterok:$jid --array=${training}-${jobs.length - 1}${throttle} ${file}`,
        ]
      : [`# Submit with: sbatch ${file}`]),
    '# Task i runs job i into its own folder under the runs folder (shared by every node); a task',
    '# run again skips a finished job and resumes an unfinished one from its checkpoints.',
    'set -euo pipefail',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable, for bash to expand
    'export TF_NUM_INTRAOP_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    `exec ${quote(process.execPath)} ${quote(cliScript())} study run-one ${quote(resolve(planFile))} --runs ${quote(runsDir)} --index "$SLURM_ARRAY_TASK_ID"`,
    '',
  ];
  return lines.join('\n');
}
