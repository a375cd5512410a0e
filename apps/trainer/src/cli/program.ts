import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BackendUnavailableError } from '@onerun/backend';
import { InvalidArgumentError as BadArgumentError, OnerunError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { appDir } from '../app-dir.js';
import { BACKEND_NAMES, backendDetails, chooseBackend } from '../backend.js';
import { type CompareSettings, compare } from '../commands/compare.js';
import { defaultJobs } from '../commands/compare-jobs.js';
import { curveBetween } from '../commands/curve.js';
import { evalRun } from '../commands/eval.js';
import { evalRuns } from '../commands/eval-runs.js';
import { mergeRuns } from '../commands/report.js';
import { trainInto } from '../commands/train.js';
import { DATA_NAMES, parseDataName } from '../data/load.js';
import { embeddedDataDir } from '../data/locate.js';
import { DataNotFoundError, IdxFormatError, RunFolderError, UsageError } from '../errors.js';
import { num, textTable } from '../report/format.js';
import type { Table } from '../report/html.js';
import { RunLockedError } from '../run-folder/lock.js';
import {
  type BackendRecord,
  METHOD_NAMES,
  parseMethodName,
  type RunConfig,
  startFraction,
} from '../training/config.js';
import { MODEL_NAMES, parseModelName } from '../training/models.js';
import { epochLines, progressSink } from './progress.js';

// tfjs prints a long "install tfjs-node" banner on first use of the cpu backend in Node.
tf.env().set('PROD', true);

/** Upper bounds of the numeric options: beyond them a run would not end in any useful time. */
const MAX = {
  epochs: 100_000,
  batchSize: 1 << 20,
  cycles: 10_000,
  points: 1_001,
  examples: 10_000_000,
  seed: 2 ** 32 - 1,
  updates: 100_000_000,
  budgetMultiple: 100,
  jobs: 256,
  swagRank: 1_000,
  swagSamples: 10_000,
} as const;

/** A number in (0, max]. */
function positiveUpTo(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > max) {
      throw new InvalidArgumentError(`Expected a number in (0, ${max}].`);
    }
    return n;
  };
}

function integer(min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected an integer in [${min}, ${max}].`);
    }
    return n;
  };
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('Expected a number > 0.');
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 0.5) {
    throw new InvalidArgumentError('Expected a number in [0, 0.5].');
  }
  return n;
}

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

/** `--swa-every`: a number of updates, or `epoch`. */
function swaEvery(value: string): number | 'epoch' {
  if (value === 'epoch') return 'epoch';
  return integer(1, MAX.updates)(value);
}

/** A comma-separated list, each item parsed by `item`. */
function listOf<T>(item: (value: string) => T) {
  return (value: string): T[] => value.split(',').map((v) => item(v.trim()));
}

/** `--swa-start` / `--fge-start`: an epoch (integer ≥ 1) or a fraction in (0, 1). */
function epochOrFraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1) && !(Number.isInteger(n) && n >= 1)) {
    throw new InvalidArgumentError('Expected an epoch (integer ≥ 1) or a fraction in (0, 1).');
  }
  return n;
}

function print(line = ''): void {
  io.out(`${line}\n`);
}

function note(line: string): void {
  io.err(`${line}\n`);
}

function printTable(table: Table): void {
  print(textTable(table.columns, table.rows));
}

interface Common {
  backend: string;
  json?: boolean;
  quiet?: boolean;
}

const bars = (opts: Common) => (label: string) =>
  opts.json || opts.quiet ? undefined : progressSink(label);

const COMMON_KEYS = ['backend', 'json', 'quiet'] as const;

/**
 * The common options of a subcommand, wherever they were typed: `onerun --json train …` and
 * `onerun train --json …` mean the same (the root parses what comes before the subcommand).
 */
function commonOf(cmd: Command): Common {
  const own = cmd.opts<Common>();
  const root = cmd.parent;
  if (!root) return own;
  const merged: Record<string, unknown> = { ...own };
  for (const key of COMMON_KEYS) {
    if (cmd.getOptionValueSource(key) !== 'cli' && root.getOptionValueSource(key) === 'cli')
      merged[key] = root.getOptionValue(key);
  }
  return merged as unknown as Common;
}

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

function backendFor(opts: Common) {
  return chooseBackend(opts.backend);
}

/** `backend: tensorflow (@tensorflow/tfjs-node, TensorFlow 2.21.0, 2 threads); skipped …`. */
function describeBackend(record: BackendRecord): string {
  const skipped = record.skipped.map((s) => `${s.backend} (${s.reason})`).join(', ');
  return `backend: ${record.backend} (${backendDetails(record)})${skipped ? `; skipped ${skipped}` : ''}`;
}

function withCommon(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--backend <name>', 'tfjs backend').choices([...BACKEND_NAMES]).default('auto'),
    )
    .option('--json', 'print machine-readable JSON on stdout instead of tables')
    .option('--quiet', 'no progress bars');
}

/** `--model`, `--data` and `--data-dir`, as `train` and `compare` take them. */
function withModelAndData(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--model <name>', 'architecture').choices([...MODEL_NAMES]).default('mlp'),
    )
    .addOption(
      new Option('--data <name>', 'data set').choices([...DATA_NAMES]).default('fashion-mnist'),
    )
    .option(
      '--data-dir <dir>',
      'folder with the IDX files (else $ONERUN_DATA_DIR, Debian, embedded)',
    );
}

/** Values the user typed (not defaults), for checking a resumed run folder. */
function givenValues(cmd: Command, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (cmd.getOptionValueSource(key) !== 'cli') continue;
    const value = cmd.getOptionValue(key);
    out[key] = key === 'dataDir' && typeof value === 'string' ? resolve(value) : value;
  }
  return out;
}

/** `compare`'s options as commander parses them: the settings' knobs as they are, plus the rest. */
interface CompareCli
  extends Common,
    Pick<
      CompareSettings,
      | 'budget'
      | 'seed'
      | 'lr'
      | 'batchSize'
      | 'cycles'
      | 'fgeCycles'
      | 'trainLimit'
      | 'testLimit'
      | (typeof COMPARE_KNOBS)[number]
    > {
  /** `--swa-budget`: one multiple of the budget, or several (trained to the largest). */
  swaBudget?: number[];
  out?: string;
  model: string;
  data: string;
  dataDir?: string;
  methods: string;
  curve: boolean;
  curveEpochs: number;
  points: number;
  evalExamples: number;
  force?: boolean;
  jobs?: number;
}

/** Each method's hyperparameters, as `train` and `compare` both take them. */
const METHOD_OPTION_KEYS = [
  'evalEvery',
  'sseLr',
  'fgeStart',
  'fgeCycleEpochs',
  'fgeLr1',
  'fgeLr2',
  'swaStart',
  'swaLr',
  'swaEvery',
  'swagRank',
  'swagSamples',
] as const;

/** The method knobs of `compare` that go into its settings as they are. */
const COMPARE_KNOBS = ['valSplit', ...METHOD_OPTION_KEYS] as const;

async function runCompare(opts: CompareCli, preset?: string): Promise<void> {
  const methods = opts.methods.split(',').map((m) => parseMethodName(m.trim()));
  const settings: CompareSettings = {
    budget: opts.budget,
    model: parseModelName(opts.model),
    data: parseDataName(opts.data),
    ...(opts.dataDir !== undefined ? { dataDir: resolve(opts.dataDir) } : {}),
    methods,
    seed: opts.seed,
    ...(opts.lr !== undefined ? { lr: opts.lr } : {}),
    ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
    ...(opts.cycles !== undefined ? { cycles: opts.cycles } : {}),
    ...(opts.fgeCycles !== undefined ? { fgeCycles: opts.fgeCycles } : {}),
    ...(opts.trainLimit !== undefined ? { trainLimit: opts.trainLimit } : {}),
    ...(opts.testLimit !== undefined ? { testLimit: opts.testLimit } : {}),
    ...swaBudgets(opts.swaBudget),
    ...Object.fromEntries(
      COMPARE_KNOBS.filter((k) => opts[k] !== undefined).map((k) => [k, opts[k]]),
    ),
    curve: opts.curve
      ? { epochs: opts.curveEpochs, points: opts.points, evalExamples: opts.evalExamples }
      : false,
  };
  const out =
    opts.out ??
    join('onerun-runs', `quick-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`);
  if (!opts.json && preset) note(preset);
  const backend = await backendFor(opts);
  const jobs = opts.jobs ?? defaultJobs(backend.backend);
  const outcome = await compare({
    ...settings,
    out,
    force: opts.force ?? false,
    backend,
    jobs,
    // Bars of parallel runs would redraw over each other: plain epoch lines then.
    progress:
      jobs > 1 && !opts.json && !opts.quiet
        ? (label) => epochLines(label, process.stderr)
        : bars(opts),
    ...(opts.json ? {} : { log: note }),
  });
  if (opts.json) {
    print(JSON.stringify({ command: 'compare', ...outcome }, null, 2));
    return;
  }
  print();
  printTable(outcome.table);
  if (outcome.curve) {
    const c = outcome.curve;
    print();
    print(
      `curve ${c.ends[0]} ↔ ${c.ends[1]}: training-loss barrier ${num(c.line.lossBarrier)} along the straight line, ${num(c.curve.lossBarrier)} along the Bezier curve`,
    );
  }
  print();
  print(`report: ${outcome.report}`);
  print(`time: ${num(outcome.seconds, 1)} s; ${describeBackend(backend)}`);
}

/** `--swa-budget 1,1.25,1.5`: SWA trains to the largest multiple and is also scored at the others. */
function swaBudgets(
  list: number[] | undefined,
): Pick<CompareSettings, 'swaBudget' | 'swaScoreBudgets'> {
  if (!list) return {};
  const swaBudget = Math.max(...list);
  const others = [...new Set(list.filter((b) => b < swaBudget))].sort((a, b) => a - b);
  return { swaBudget, ...(others.length > 0 ? { swaScoreBudgets: others } : {}) };
}

function withMethodOptions(cmd: Command): Command {
  return cmd
    .option(
      '--eval-every <epochs>',
      'test metrics every n epochs (0: only at the end; default 1)',
      integer(0, MAX.epochs),
    )
    .option('--sse-lr <rate>', 'SSE: peak rate α0 of each cycle (default --lr)', positive)
    .option(
      '--fge-start <epoch>',
      'FGE: collection starts at this epoch, or fraction (default 0.8)',
      epochOrFraction,
    )
    .option(
      '--fge-cycle-epochs <n>',
      'FGE: cycle length in epochs (default: its phase split into its cycles)',
      positiveUpTo(MAX.epochs),
    )
    .option('--fge-lr1 <rate>', 'FGE: large rate of the cycle (default lr/2)', positive)
    .option('--fge-lr2 <rate>', 'FGE: small rate of the cycle (default lr/20)', positive)
    .option(
      '--swa-start <epoch>',
      'SWA: averaging starts at this epoch, or after this fraction of its epochs (default 0.75)',
      epochOrFraction,
    )
    .option('--swa-lr <rate>', 'SWA: constant rate of the averaging phase (default lr/2)', positive)
    .option(
      '--swa-every <n|epoch>',
      'SWA: average every n updates, or once per epoch (default)',
      swaEvery,
    )
    .option(
      '--swag-rank <K>',
      'SWA: also fit SWAG with K deviation columns (0: off; the paper uses 20)',
      integer(0, MAX.swagRank),
    )
    .option(
      '--swag-samples <S>',
      'SWAG: draws in its Bayesian model average, BN recomputed for each (default 30)',
      integer(1, MAX.swagSamples),
    );
}

interface CompareDefaults {
  budget: number;
  cycles: number;
  curveEpochs: number;
  points: number;
  evalExamples: number;
}

function compareOptions(cmd: Command, defaults: CompareDefaults): Command {
  return withMethodOptions(
    withModelAndData(
      withCommon(cmd).option(
        '--budget <epochs>',
        'training budget per method, in epochs',
        integer(1, MAX.epochs),
        defaults.budget,
      ),
    ),
  )
    .option(
      '--methods <list>',
      `comma-separated subset of ${METHOD_NAMES.join(',')}`,
      METHOD_NAMES.join(','),
    )
    .option('--seed <n>', 'seed of weights, data order and curve sampling', integer(0, MAX.seed), 0)
    .option('--lr <rate>', 'peak learning rate (default 0.05)', positive)
    .option('--batch-size <n>', 'examples per update (default 128)', integer(1, MAX.batchSize))
    .option('--cycles <n>', 'SSE cycles', integer(1, MAX.cycles), defaults.cycles)
    .option(
      '--fge-cycles <n>',
      'FGE cycles in its collection phase (default 4)',
      integer(1, MAX.cycles),
    )
    .option('--train-limit <n>', 'use only the first n training examples', integer(1))
    .option('--test-limit <n>', 'use only the first n test examples', integer(1))
    .option('--val-split <fraction>', 'hold out this fraction of the training split', fraction)
    .option(
      '--swa-budget <x[,y…]>',
      "SWA's training length as a multiple of the budget (default 1); with a list (e.g. 1,1.25,1.5) it trains to the largest and is also scored at the others",
      listOf(positiveUpTo(MAX.budgetMultiple)),
    )
    .option('--no-curve', 'skip the curve between the baseline and SSE')
    .option(
      '--curve-epochs <n>',
      'epochs of curve training',
      integer(1, MAX.epochs),
      defaults.curveEpochs,
    )
    .option(
      '--points <n>',
      'points evaluated along the curve and the line',
      integer(2, MAX.points),
      defaults.points,
    )
    .option(
      '--eval-examples <n>',
      'training examples for BN recompute and loss along the paths',
      integer(1, MAX.examples),
      defaults.evalExamples,
    )
    .option('--force', 'overwrite a finished comparison in --out')
    .option(
      '--jobs <n>',
      'worker processes training methods at the same time (default: one per core on wasm/cpu, 1 on a native backend)',
      integer(1, MAX.jobs),
    );
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
  compareOptions(program, { budget: 10, cycles: 3, curveEpochs: 1, points: 11, evalExamples: 2000 })
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

  const train = withMethodOptions(
    withModelAndData(
      withCommon(
        program
          .command('train')
          .description('train one method into a run folder (resumes an unfinished one)'),
      )
        .requiredOption('--out <dir>', 'run folder to create or resume')
        .addOption(
          new Option('--method <name>', 'training method')
            .choices([...METHOD_NAMES])
            .default('sse'),
        ),
    ),
  )
    .option('--epochs <n>', 'training budget in epochs', integer(1, MAX.epochs), 10)
    .option('--batch-size <n>', 'examples per update', integer(1, MAX.batchSize), 128)
    .option('--lr <rate>', 'peak learning rate', positive, 0.05)
    .option('--cycles <n>', 'SSE cycles / FGE cycles (default 5 / 4)', integer(1, MAX.cycles))
    .option('--seed <n>', 'seed of weights and data order', integer(0, MAX.seed), 0)
    .option('--val-split <fraction>', 'hold out this fraction of the training split', fraction, 0)
    .option('--train-limit <n>', 'use only the first n training examples', integer(1))
    .option('--test-limit <n>', 'use only the first n test examples', integer(1))
    .option('--weight-decay <x>', 'L2 weight decay on kernels', Number, 5e-4)
    .option('--momentum <x>', 'SGD momentum', Number, 0.9)
    .option(
      '--swa-score-at <epochs>',
      'SWA: also save and score the SWA model after these epochs (comma-separated)',
      listOf(integer(1, MAX.epochs)),
    )
    .option('--force', 'overwrite an existing run folder')
    .action(async (own: Record<string, unknown>, cmd: Command) => {
      const opts = { ...own, ...commonOf(cmd) } as Record<string, unknown> & Common;
      const keys = [
        'method',
        'model',
        'data',
        'dataDir',
        'epochs',
        'batchSize',
        'lr',
        'cycles',
        'seed',
        'valSplit',
        'trainLimit',
        'testLimit',
        'weightDecay',
        'momentum',
        'swaScoreAt',
        ...METHOD_OPTION_KEYS,
      ];
      // A run folder outlives the working directory it was made from.
      if (typeof opts.dataDir === 'string') opts.dataDir = resolve(opts.dataDir);
      const input = Object.fromEntries(
        keys.filter((k) => opts[k] !== undefined).map((k) => [k, opts[k]]),
      );
      // --swa-start and --fge-start (an epoch or a fraction) are the config's fractions.
      const epochs = Number(opts.epochs);
      const rename = (o: Record<string, unknown>) => {
        for (const [flag, from, to] of [
          ['--swa-start', 'swaStart', 'swaStartFraction'],
          ['--fge-start', 'fgeStart', 'pretrainFraction'],
        ] as const) {
          if (from in o) {
            o[to] = startFraction(flag, Number(o[from]), epochs);
            delete o[from];
          }
        }
        return o;
      };
      rename(input);
      input.method = parseMethodName(String(opts.method));
      input.model = parseModelName(String(opts.model));
      input.data = parseDataName(String(opts.data));
      const backend = await backendFor(opts);
      const progress = bars(opts)(String(opts.method));
      const outcome = await trainInto({
        out: String(opts.out),
        force: Boolean(opts.force),
        input: input as unknown as RunConfig,
        given: rename(givenValues(cmd, keys)) as Partial<RunConfig>,
        backend,
        ...(progress ? { progress } : {}),
      });
      if (opts.json) {
        print(JSON.stringify({ command: 'train', ...outcome }, null, 2));
        return;
      }
      for (const line of outcome.notes) note(`onerun: ${line}`);
      if (outcome.resumedFrom !== undefined)
        note(`resumed from the checkpoint after epoch ${outcome.resumedFrom}`);
      const m = outcome.metrics;
      print(`${outcome.config.method} (${outcome.plan.summary})`);
      print(
        `test: ${num(m.result.accuracy * 100, 2)}% accuracy, NLL ${num(m.result.nll)}, ECE ${num(m.result.ece)} — ${m.resultLabel}`,
      );
      print(`run folder: ${outcome.dir}`);
      print(`report: ${outcome.report}`);
      print(describeBackend(backend));
    });
  void train;

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
          JSON.stringify({ command: 'eval', dir: result.dir, metrics: result.metrics }, null, 2),
        );
        return;
      }
      printTable(result.table);
    });

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
    .option('--force', 'overwrite a non-empty --out')
    .action(async (a: string, b: string, own: Record<string, unknown>, cmd: Command) => {
      const opts = { ...own, ...commonOf(cmd) } as Common & Record<string, unknown>;
      const backend = await backendFor(opts);
      const result = await curveBetween(a, b, {
        out: String(opts.out),
        force: Boolean(opts.force),
        epochs: opts.epochs as number,
        points: opts.points as number,
        evalExamples: opts.evalExamples as number,
        ...(opts.lr !== undefined ? { lr: opts.lr as number } : {}),
        ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir as string } : {}),
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

  withCommon(
    program
      .command('report')
      .description(
        'one table and one report over finished runs made apart (run or comparison folders)',
      ),
  )
    .argument('<dirs...>', 'run folders (onerun train) or comparison folders (onerun compare)')
    .requiredOption('--out <dir>', 'folder for the merged report')
    .option('--force', 'replace the report in a non-empty --out')
    .action(async (dirs: string[], own: { out: string; force?: boolean }, cmd: Command) => {
      const opts = { ...own, ...commonOf(cmd) };
      const result = await mergeRuns({ dirs, out: own.out, force: Boolean(own.force) });
      if (opts.json) {
        print(JSON.stringify({ command: 'report', ...result }, null, 2));
        return;
      }
      printTable(result.table);
      print();
      print(`report: ${result.report}`);
    });

  compareOptions(
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
  return program;
}

/**
 * Exit status: 2 for bad input (usage, option values, data files, run folder, a run folder in
 * use), 1 for anything else that failed (divergence included).
 */
export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError ||
    error instanceof BadArgumentError ||
    error instanceof BackendUnavailableError ||
    error instanceof DataNotFoundError ||
    error instanceof IdxFormatError ||
    error instanceof RunFolderError ||
    error instanceof RunLockedError ||
    error instanceof CommanderError
    ? 2
    : 1;
}

/**
 * Runs `onerun` with `argv` (as `process.argv`: node, script, args…) and returns the exit status:
 * 0 on success, 2 for bad input (usage, data, run folder, backend), 1 for any other failure.
 * Errors are one line on `err`; with `--json` also a JSON object on `out`.
 */
export async function main(argv: string[], output: CliIO = processIO): Promise<number> {
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
    io = processIO;
  }
}
