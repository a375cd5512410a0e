import { type Command, Option } from 'commander';
import { parseDataName } from '../data/load.js';
import { parseModelName } from '../models/registry.js';
import {
  METHOD_NAMES,
  parseMethodName,
  type RunConfig,
  type RunConfigInput,
} from '../training/config.js';
import { type MethodKnobs, methodFields, pickDefined } from '../training/method-knobs.js';
import { fraction, integer, listOf, MAX, positive } from './parse-values.js';
import {
  type Common,
  dataFields,
  type ModelAndDataCli,
  resolvedDataDir,
  withCommon,
  withMethodOptions,
  withModelAndData,
} from './shared-options.js';

/** `train`'s options as commander parses them. */
export interface TrainCli extends Common, ModelAndDataCli, MethodKnobs {
  out: string;
  /** Checked by commander's `choices`, parsed by `trainInput`. */
  method: string;
  epochs: number;
  batchSize: number;
  lr: number;
  cycles?: number;
  seed: number;
  valSplit: number;
  trainLimit?: number;
  testLimit?: number;
  weightDecay: number;
  momentum: number;
  swaScoreAt?: number[];
  force?: boolean;
  allowBackendChange?: boolean;
}

/** `train`'s options, added to `cmd` (the order is the order of `onerun help train`). */
export function withTrainOptions(cmd: Command): Command {
  return withMethodOptions(
    withModelAndData(
      withCommon(cmd)
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
    .option(
      '--force',
      'start the run in --out over (deletes only the files train recorded writing)',
    )
    .option(
      '--allow-backend-change',
      'resume an unfinished run on another backend than it trained on (recorded in config.json)',
    );
}

/** `train`'s options as the run's config input (defaults are filled by `resolveConfig`). */
export function trainInput(opts: TrainCli): RunConfigInput {
  return {
    method: parseMethodName(opts.method),
    model: parseModelName(opts.model),
    data: parseDataName(opts.data),
    ...resolvedDataDir(opts),
    ...dataFields(opts),
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    lr: opts.lr,
    seed: opts.seed,
    valSplit: opts.valSplit,
    weightDecay: opts.weightDecay,
    momentum: opts.momentum,
    ...pickDefined(opts, ['cycles', 'trainLimit', 'testLimit', 'swaScoreAt']),
    // --swa-start and --fge-start (an epoch or a fraction) are the config's fractions.
    ...methodFields(opts, opts.epochs),
  };
}

/** Options whose config field has the option's name. */
const SAME_NAME = [
  'method',
  'model',
  'data',
  'dataDir',
  'imageSize',
  'testSplit',
  'labelColumn',
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
  'evalEvery',
  'sseLr',
  'fgeCycleEpochs',
  'fgeLr1',
  'fgeLr2',
  'swaLr',
  'swaEvery',
  'swagRank',
  'swagSamples',
] as const satisfies readonly (keyof TrainCli & keyof RunConfig)[];

/** Each option of `train` that sets a config field, with the field (in the order they are checked). */
const CONFIG_FIELDS: readonly (readonly [option: keyof TrainCli, field: keyof RunConfig])[] = [
  ...SAME_NAME.map((key) => [key, key] as const),
  ['swaStart', 'swaStartFraction'],
  ['fgeStart', 'pretrainFraction'],
];

/**
 * The config fields of the options the user typed (not defaults), as `input` holds them: what
 * a resumed run folder is checked against.
 */
export function givenFields(cmd: Command, input: RunConfigInput): Partial<RunConfig> {
  const typed = CONFIG_FIELDS.filter(([option]) => cmd.getOptionValueSource(option) === 'cli');
  return pickDefined(
    input,
    typed.map(([, field]) => field),
  );
}
