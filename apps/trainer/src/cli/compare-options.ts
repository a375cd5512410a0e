import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CompareSettings } from '../commands/compare-settings.js';
import { parseDataName } from '../data/load.js';
import { parseModelName } from '../models/registry.js';
import { METHOD_NAMES, parseMethodName } from '../training/config.js';
import { METHOD_KNOB_KEYS, type MethodKnobs, pickDefined } from '../training/method-knobs.js';
import { fraction, integer, listOf, MAX, positive, positiveUpTo } from './parse-values.js';
import {
  type Common,
  dataFields,
  type ModelAndDataCli,
  resolvedDataDir,
  withCommon,
  withMethodOptions,
  withModelAndData,
} from './shared-options.js';

/** `compare`'s options as commander parses them: the settings' knobs as they are, plus the rest. */
export interface CompareCli
  extends Common,
    ModelAndDataCli,
    MethodKnobs,
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
      | 'valSplit'
    > {
  /** `--swa-budget`: one multiple of the budget, or several (trained to the largest). */
  swaBudget?: number[];
  out?: string;
  /** Comma-separated method names, parsed by `compareSettings`. */
  methods: string;
  curve: boolean;
  curveEpochs: number;
  points: number;
  evalExamples: number;
  force?: boolean;
  jobs?: number;
}

/** The defaults that differ between `compare` and the quick comparison of a bare `onerun`. */
export interface CompareDefaults {
  budget: number;
  cycles: number;
  curveEpochs: number;
  points: number;
  evalExamples: number;
}

/** `compare`'s options (all but `--out`), added to `cmd`. */
export function withCompareOptions(cmd: Command, defaults: CompareDefaults): Command {
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
    .option(
      '--force',
      'start the comparison in --out over (deletes only the files compare recorded writing)',
    )
    .option(
      '--jobs <n>',
      `worker processes training methods at the same time (default: one per CPU core — ${availableParallelism()} here — at most one per independent method, FGE sharing the baseline's; 1 on tensorflow-gpu)`,
      integer(1, MAX.jobs),
    );
}

/** What defines the comparison `opts` asks for (the method knobs as given: starts per method). */
export function compareSettings(opts: CompareCli): CompareSettings {
  const methods = opts.methods.split(',').map((m) => parseMethodName(m.trim()));
  return {
    budget: opts.budget,
    model: parseModelName(opts.model),
    data: parseDataName(opts.data),
    ...resolvedDataDir(opts),
    ...dataFields(opts),
    methods,
    seed: opts.seed,
    ...pickDefined(opts, ['lr', 'batchSize', 'cycles', 'fgeCycles', 'trainLimit', 'testLimit']),
    ...swaBudgets(opts.swaBudget),
    ...pickDefined(opts, ['valSplit', ...METHOD_KNOB_KEYS]),
    curve: opts.curve
      ? { epochs: opts.curveEpochs, points: opts.points, evalExamples: opts.evalExamples }
      : false,
  };
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

/** Where a comparison goes without `--out`: a new folder named by the time. */
export function defaultCompareOut(): string {
  return join('onerun-runs', `quick-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`);
}
