import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackendUnavailableError } from '@onerun/backend';
import { InvalidArgumentError as BadArgumentError, OnerunError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { Command, CommanderError, Option } from 'commander';
import { appDir } from '../app-dir.js';
import { backendDetails, chooseBackend } from '../backend.js';
import { compare } from '../commands/compare.js';
import { defaultJobs } from '../commands/compare-jobs.js';
import { curveBetween } from '../commands/curve.js';
import { evalRun } from '../commands/eval.js';
import { evalRuns } from '../commands/eval-runs.js';
import { exportRun } from '../commands/export.js';
import { predictRun } from '../commands/predict.js';
import { mergeRuns } from '../commands/report.js';
import { trainInto } from '../commands/train.js';
import { embeddedDataDir } from '../data/locate.js';
import {
  DataFileError,
  DataFormatError,
  DataNotFoundError,
  IdxFormatError,
  ModelFitError,
  RunFolderError,
  UsageError,
} from '../errors.js';
import { num, textTable } from '../report/format.js';
import type { Table } from '../report/html.js';
import { RunLockedError } from '../run-folder/lock.js';
import { StudyPlanError } from '../study/plan.js';
import { WAITING_EXIT } from '../study/pool.js';
import { JobNeedsPendingError, type RunCli } from '../study/run-one.js';
import type { BackendRecord } from '../training/config.js';
import { pickDefined } from '../training/method-knobs.js';
import {
  type CompareCli,
  compareSettings,
  defaultCompareOut,
  withCompareOptions,
} from './compare-options.js';
import { integer, MAX, positive } from './parse-values.js';
import { epochLines, progressSink, withResumeNotice } from './progress.js';
import { type Common, commonOf, withCommon } from './shared-options.js';
import { addStudy, addWorker } from './study-commands.js';
import { givenFields, type TrainCli, trainInput, withTrainOptions } from './train-options.js';

// tfjs prints a long "install tfjs-node" banner on first use of the cpu backend in Node.
tf.env().set('PROD', true);

/** Where the CLI writes: stdout for results, stderr for notes, errors and progress. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

const processIO: CliIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};
let io: CliIO = processIO;

function print(line = ''): void {
  io.out(`${line}\n`);
}

function note(line: string): void {
  io.err(`${line}\n`);
}

function printTable(table: Table): void {
  print(textTable(table.columns, table.rows));
}

const bars = (opts: Common) => (label: string) =>
  opts.json || opts.quiet ? undefined : progressSink(label);

/** Edit distance (insertions, deletions, substitutions) between two short words. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length]!;
}

/** `unknown command 'traing' — did you mean 'train'?` (the nearest within two edits). */
function unknownCommand(word: string, commands: string[]): UsageError {
  const near = commands
    .map((name) => ({ name, d: editDistance(word, name) }))
    .filter((c) => c.d <= 2)
    .sort((x, y) => x.d - y.d)[0];
  return new UsageError(
    `unknown command '${word}'${near ? ` — did you mean '${near.name}'?` : ''} (commands: ${commands.join(', ')}; see onerun help)`,
  );
}

/** The app's version, from its package.json. */
function appVersion(): string {
  return String(JSON.parse(readFileSync(join(appDir(), 'package.json'), 'utf8')).version);
}

/** The backend for a command; `model`: the architecture it trains (picks the intra-op pool). */
function backendFor(opts: Common, model?: string) {
  return chooseBackend(opts.backend, {
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(model !== undefined ? { model } : {}),
    ...(opts.verbose ? { verbose: true } : {}),
  });
}

/** `backend: tensorflow (@tensorflow/tfjs-node, TensorFlow 2.21.0, 2 threads); skipped …`. */
function describeBackend(record: BackendRecord): string {
  const skipped = record.skipped.map((s) => `${s.backend} (${s.reason})`).join(', ');
  return `backend: ${record.backend} (${backendDetails(record)})${skipped ? `; skipped ${skipped}` : ''}`;
}

async function runCompare(opts: CompareCli, preset?: string): Promise<void> {
  const settings = compareSettings(opts);
  const out = opts.out ?? defaultCompareOut();
  if (!opts.json && preset) note(preset);
  const backend = await backendFor(opts, settings.model);
  const jobs = opts.jobs ?? defaultJobs(backend.backend);
  const outcome = await compare({
    ...settings,
    out,
    force: opts.force ?? false,
    backend,
    jobs,
    // Bars of parallel runs would redraw over each other: plain epoch lines then.
    progress: (label) => {
      const sink =
        jobs > 1 && !opts.json && !opts.quiet
          ? epochLines(label, process.stderr)
          : bars(opts)(label);
      return opts.json ? sink : withResumeNotice(sink, note);
    },
    ...(opts.json ? {} : { log: note }),
  });
  if (opts.json) {
    print(JSON.stringify({ command: 'compare', ...outcome }, null, 2));
    return;
  }
  print();
  printTable(outcome.table);
  if (outcome.verdicts.headline.length > 0) {
    print();
    print(
      `Δ: vs the baseline on the same test examples, ${Math.round(outcome.bootstrap.level * 100)}% paired bootstrap intervals (${outcome.bootstrap.resamples} resamples); a winner only where the interval excludes 0.`,
    );
    for (const line of outcome.verdicts.headline) print(line);
  }
  if (outcome.curve) {
    const c = outcome.curve;
    print();
    print(
      `curve ${c.ends[0]} ↔ ${c.ends[1]}: training-loss barrier ${num(c.line.lossBarrier)} along the straight line, ${num(c.curve.lossBarrier)} along the Bezier curve`,
    );
  }
  print();
  print(`report: ${outcome.report}`);
  print(`metrics: ${outcome.metricsCsv}`);
  print(`time: ${num(outcome.seconds, 1)} s; ${describeBackend(backend)}`);
}

/** `onerun ARGS…` in this process, its output captured (a study job). */
const runInProcess: RunCli = async (args) => {
  let out = '';
  let err = '';
  const code = await main(['node', 'onerun', ...args], {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
};

/** `curve`'s options as commander parses them. */
interface CurveCli extends Common {
  out: string;
  epochs: number;
  points: number;
  evalExamples: number;
  lr?: number;
  dataDir?: string;
  force?: boolean;
}

/** The `onerun` program (exported for tests that drive it in-process). */
export function buildProgram(): Command {
  const program = new Command('onerun')
    .description(
      'One training run, many models: Snapshot Ensembles, Fast Geometric Ensembling and SWA with TensorFlow.js.\n' +
        'Without a command: a short but real comparison of all four methods on the embedded Fashion-MNIST slice.',
    )
    .version(appVersion())
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (t) => io.out(t),
      writeErr: (t) => io.err(t),
      // One prefix for every error, commander's and the app's: `onerun: error: …`.
      outputError: (t, write) => write(`onerun: ${t}`),
    })
    .showSuggestionAfterError(true)
    .helpCommand('help [command]', 'show help for a command')
    // Words after `onerun` that are not a command reach the default action, which names them.
    .allowExcessArguments(true);
  addQuickCompare(program);
  addTrain(program);
  addEval(program);
  addCurve(program);
  addReport(program);
  addCompare(program);
  addPredict(program);
  addExport(program);
  addStudy(program, { print, note, runCli: runInProcess });
  addWorker(program, { print, note, runCli: runInProcess });
  deferRequiredOptions(program);
  return program;
}

/**
 * Commander checks required options before unknown ones, so `train --methd sse` would answer
 * "required option '--out <dir>' not specified" and hide the typo. Every required option becomes
 * an ordinary one marked "(required)" in help, checked before the action — after commander has
 * named any unknown option (with the nearest known one).
 */
function deferRequiredOptions(program: Command): void {
  const required = new Map<Command, Option[]>();
  const visit = (cmd: Command) => {
    for (const option of cmd.options) {
      if (!option.mandatory) continue;
      option.mandatory = false;
      option.description = `(required) ${option.description}`;
      required.set(cmd, [...(required.get(cmd) ?? []), option]);
    }
    for (const sub of cmd.commands) visit(sub);
  };
  visit(program);
  program.hook('preAction', (_root, action) => {
    for (const option of required.get(action) ?? []) {
      if (action.getOptionValue(option.attributeName()) === undefined) {
        action.error(`error: required option '${option.flags}' not specified`, {
          code: 'commander.missingMandatoryOptionValue',
          exitCode: 2,
        });
      }
    }
  });
}

/**
 * Exit status: 2 for bad input (usage, option values, data files, run folder, a run folder in
 * use), 75 for a study job that waits for other jobs, 1 for anything else that failed (divergence
 * included).
 */
export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError ||
    error instanceof BadArgumentError ||
    error instanceof BackendUnavailableError ||
    error instanceof DataNotFoundError ||
    error instanceof DataFileError ||
    error instanceof IdxFormatError ||
    error instanceof DataFormatError ||
    error instanceof ModelFitError ||
    error instanceof RunFolderError ||
    error instanceof RunLockedError ||
    error instanceof StudyPlanError ||
    error instanceof CommanderError
    ? 2
    : error instanceof JobNeedsPendingError
      ? WAITING_EXIT
      : 1;
}

/**
 * Runs `onerun` with `argv` (as `process.argv`: node, script, args…) and returns the exit status:
 * 0 on success, 2 for bad input (usage, data, run folder, backend), 1 for any other failure.
 * Errors are one line on `err`; with `--json` also a JSON object on `out`.
 */
export async function main(argv: string[], output: CliIO = processIO): Promise<number> {
  // `study run-one` runs a command through here inside a running command: restore the caller's.
  const previous = io;
  io = output;
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version "errors" are normal exits; commander already printed its message.
      return error.exitCode === 0 ? 0 : 2;
    }
    const message =
      error instanceof OnerunError || error instanceof Error ? error.message : String(error);
    const code = error instanceof OnerunError ? error.code : 'INTERNAL';
    const hint =
      error instanceof BackendUnavailableError
        ? '; use --backend auto to take the best one installed'
        : '';
    if (json) print(JSON.stringify({ error: { code, message: message + hint } }));
    io.err(`onerun: error: ${message.replace(/\s*\n\s*/g, ' ')}${hint}\n`);
    if (!(error instanceof OnerunError) && process.env.ONERUN_DEBUG) console.error(error);
    return exitCodeOf(error);
  } finally {
    io = previous;
  }
}

/** A bare `onerun`: the quick comparison on the embedded Fashion-MNIST slice. */
function addQuickCompare(program: Command): void {
  withCompareOptions(program, {
    budget: 10,
    cycles: 3,
    curveEpochs: 1,
    points: 11,
    evalExamples: 2000,
  })
    .option('--out <dir>', 'where to write the comparison (default onerun-runs/quick-<time>)')
    .action(async (opts: CompareCli, cmd: Command) => {
      const [word] = cmd.args;
      if (word !== undefined)
        throw unknownCommand(
          word,
          program.commands.map((c) => c.name()),
        );
      if (cmd.getOptionValueSource('dataDir') !== 'cli' && opts.data === 'fashion-mnist') {
        opts.dataDir = embeddedDataDir();
      }
      await runCompare(
        opts,
        `onerun quick comparison: baseline, SSE, FGE, SWA on ${opts.data} (${opts.budget} epochs each, ${opts.model}); see onerun --help for the full commands.`,
      );
    });
}

/** `onerun train`: one method into a run folder. */
function addTrain(program: Command): void {
  withTrainOptions(
    program
      .command('train')
      .description('train one method into a run folder (resumes an unfinished one)'),
  ).action(async (own: TrainCli, cmd: Command) => {
    const opts: TrainCli = { ...own, ...commonOf(cmd) };
    const input = trainInput(opts);
    const backend = await backendFor(opts, input.model);
    // Named by the method of the run in --out (a resume may name none), and a resume says so
    // before it trains.
    const bar = bars(opts)('train');
    const progress = opts.json ? bar : withResumeNotice(bar, note);
    const outcome = await trainInto({
      out: opts.out,
      force: Boolean(opts.force),
      allowBackendChange: Boolean(opts.allowBackendChange),
      input,
      given: givenFields(cmd, input),
      backend,
      ...(progress ? { progress } : {}),
    });
    if (opts.json) {
      print(JSON.stringify({ command: 'train', ...outcome }, null, 2));
      return;
    }
    for (const line of outcome.notes) note(`onerun: ${line}`);
    const m = outcome.metrics;
    print(`${outcome.config.method} (${outcome.plan.summary})`);
    print(
      `test: ${num(m.result.accuracy * 100, 2)}% accuracy, NLL ${num(m.result.nll)}, ECE ${num(m.result.ece)} — ${m.resultLabel}`,
    );
    print(`run folder: ${outcome.dir}`);
    print(`report: ${outcome.report}`);
    print(`metrics: ${outcome.metricsCsv}`);
    print(describeBackend(backend));
  });
}

/** `onerun eval`: the test metrics of one run, or of several as one ensemble. */
function addEval(program: Command): void {
  withCommon(
    program
      .command('eval')
      .description(
        'test metrics of a run: members, ensemble, size curve, SWA with and without BN recompute; of several runs: their deep ensemble',
      ),
  )
    .argument(
      '<dirs...>',
      'run folder made by onerun train; several: their final models as one ensemble',
    )
    .option('--data-dir <dir>', 'read the test data from this folder instead')
    .action(async (dirs: string[], own: { dataDir?: string }, cmd: Command) => {
      const opts = { ...own, ...commonOf(cmd) };
      await backendFor(opts);
      const dataDir = opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {};
      if (dirs.length > 1) {
        const { table, ...result } = await evalRuns(dirs, dataDir);
        if (opts.json) print(JSON.stringify({ command: 'eval', dirs, runs: result }, null, 2));
        else printTable(table);
        return;
      }
      const result = await evalRun(dirs[0] as string, dataDir);
      if (opts.json) {
        print(
          JSON.stringify(
            { command: 'eval', dir: result.dir, metrics: result.metrics, notes: result.notes },
            null,
            2,
          ),
        );
        return;
      }
      for (const line of result.notes) note(line);
      printTable(result.table);
    });
}

/** `onerun curve`: a low-loss curve between two models. */
function addCurve(program: Command): void {
  withCommon(
    program
      .command('curve')
      .description(
        'find a low-loss curve between two trained models and compare it with the straight line',
      ),
  )
    .argument('<a>', 'run folder (or DIR:SNAPSHOT_ID) of the first model')
    .argument('<b>', 'run folder (or DIR:SNAPSHOT_ID) of the second model')
    .requiredOption('--out <dir>', 'folder for the curve, its numbers and report')
    .option('--epochs <n>', 'epochs of curve training', integer(1, MAX.epochs), 2)
    .option('--points <n>', 'points evaluated along each path', integer(2, MAX.points), 21)
    .option(
      '--eval-examples <n>',
      'training examples for BN recompute and loss along the paths',
      integer(1, MAX.examples),
      5000,
    )
    .option('--lr <rate>', "peak learning rate of curve training (default: run A's)", positive)
    .option('--data-dir <dir>', 'read the data from this folder instead')
    .option(
      '--force',
      'replace an earlier curve output in --out (only the files it recorded writing)',
    )
    .action(async (a: string, b: string, own: CurveCli, cmd: Command) => {
      const opts: CurveCli = { ...own, ...commonOf(cmd) };
      const backend = await backendFor(opts);
      const result = await curveBetween(a, b, {
        ...(opts.json ? {} : { log: note }),
        out: opts.out,
        force: Boolean(opts.force),
        epochs: opts.epochs,
        points: opts.points,
        evalExamples: opts.evalExamples,
        ...pickDefined(opts, ['lr', 'dataDir']),
        backend,
      });
      if (opts.json) {
        print(JSON.stringify({ command: 'curve', dir: result.dir, ...result.result }, null, 2));
        return;
      }
      printTable(result.table);
      print(`report: ${result.report}`);
      print(describeBackend(backend));
    });
}

/** `onerun report`: one table and report over runs made apart. */
function addReport(program: Command): void {
  withCommon(
    program
      .command('report')
      .description(
        'one table and one report over finished runs made apart (run or comparison folders)',
      ),
  )
    .argument('<dirs...>', 'run folders (onerun train) or comparison folders (onerun compare)')
    .requiredOption('--out <dir>', 'folder for the merged report')
    .option('--force', 'replace an earlier report in --out (only the files it recorded writing)')
    .action(async (dirs: string[], own: { out: string; force?: boolean }, cmd: Command) => {
      const opts = { ...own, ...commonOf(cmd) };
      const result = await mergeRuns({
        dirs,
        out: own.out,
        force: Boolean(own.force),
        ...(opts.json ? {} : { log: note }),
      });
      if (opts.json) {
        print(JSON.stringify({ command: 'report', ...result }, null, 2));
        return;
      }
      printTable(result.table);
      print();
      print(`report: ${result.report}`);
      print(`metrics: ${result.metricsCsv}`);
    });
}

/** `onerun compare`: the four methods at one budget. */
function addCompare(program: Command): void {
  withCompareOptions(
    program
      .command('compare')
      .description(
        'baseline, SSE, FGE and SWA at the same budget, one curve, one table and one report',
      ),
    { budget: 10, cycles: 5, curveEpochs: 2, points: 21, evalExamples: 5000 },
  )
    .requiredOption(
      '--out <dir>',
      'folder for the comparison (resumed when rerun with the same options)',
    )
    .action(async (own: CompareCli, cmd: Command) => {
      await runCompare({ ...own, ...commonOf(cmd) });
    });
}

/** `onerun predict`: a finished run's final model on new examples. */
function addPredict(program: Command): void {
  withCommon(
    program
      .command('predict')
      .description(
        "a finished run's final prediction (ensemble mean, SWA average) on new examples: class probabilities, predicted class, uncertainty",
      ),
  )
    .argument('<run>', 'run folder made by onerun train (or one run of a comparison)')
    .requiredOption(
      '--data <path>',
      'new examples, raw as the data stores them (an IDX image file)',
    )
    .option('--out <file>', 'write the predictions here (.csv or .json); else CSV on stdout')
    .addOption(
      new Option('--format <format>', 'csv or json (default: from --out)').choices(['csv', 'json']),
    )
    .option('--force', 'replace an existing --out file')
    .option('--batch-size <n>', 'examples per forward pass', integer(1, MAX.batchSize), 256)
    .option(
      '--swag',
      "SWA runs fitted with --swag-rank: SWAG's model average instead of the SWA model",
    )
    .option('--data-dir <dir>', "where the run's training data is (SWAG's batch-norm recompute)")
    .action(
      async (
        run: string,
        own: {
          data: string;
          out?: string;
          format?: 'csv' | 'json';
          force?: boolean;
          batchSize: number;
          swag?: boolean;
          dataDir?: string;
        },
        cmd: Command,
      ) => {
        const opts = { ...own, ...commonOf(cmd) };
        await backendFor(opts);
        const outcome = await predictRun(run, {
          data: opts.data,
          ...pickDefined(opts, ['out', 'format', 'force', 'swag', 'dataDir']),
          batchSize: opts.batchSize,
        });
        const summary = `${outcome.prediction.count} examples, ${outcome.source.method} run: ${outcome.source.model}`;
        if (opts.json) {
          if (outcome.out === undefined && outcome.format === 'json') io.out(outcome.text);
          else
            print(
              JSON.stringify(
                {
                  command: 'predict',
                  out: outcome.out,
                  format: outcome.format,
                  ...outcome.source,
                  count: outcome.prediction.count,
                },
                null,
                2,
              ),
            );
          return;
        }
        if (outcome.out === undefined) {
          io.out(outcome.text);
          if (!opts.quiet) note(`onerun: predicted ${summary}`);
          return;
        }
        print(`predicted ${summary}`);
        print(`predictions: ${outcome.out}`);
      },
    );
}

/** `onerun export`: a finished run's final model as one tfjs LayersModel. */
function addExport(program: Command): void {
  withCommon(
    program
      .command('export')
      .description(
        "a finished run's final prediction as one tfjs LayersModel taking raw inputs (preprocessing inside), for Node and browsers",
      ),
  )
    .argument('<run>', 'run folder made by onerun train (or one run of a comparison)')
    .requiredOption(
      '--to <dir>',
      'a new or empty folder for model.json, weight shards and classes.json',
    )
    .option('--force', 'replace an earlier export in --to')
    .option(
      '--swag',
      "SWA runs fitted with --swag-rank: SWAG's draws as the branches instead of the SWA model",
    )
    .option('--data-dir <dir>', "where the run's training data is (SWAG's batch-norm recompute)")
    .action(
      async (
        run: string,
        own: { to: string; force?: boolean; swag?: boolean; dataDir?: string },
        cmd: Command,
      ) => {
        const opts = { ...own, ...commonOf(cmd) };
        await backendFor(opts);
        const outcome = await exportRun(run, {
          to: opts.to,
          force: Boolean(opts.force),
          ...pickDefined(opts, ['swag', 'dataDir']),
        });
        if (opts.json) {
          print(JSON.stringify({ command: 'export', ...outcome }, null, 2));
          return;
        }
        print(
          `exported ${outcome.method} run: ${outcome.model}, input [${outcome.inputShape.join(', ')}] raw, ${outcome.classes.length} classes`,
        );
        print(`folder: ${outcome.dir} (${outcome.files.join(', ')})`);
      },
    );
}
