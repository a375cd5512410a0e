import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { BACKEND_NAMES } from '../backend.js';
import { DATA_NAMES } from '../data/load.js';
import { MODEL_NAMES } from '../models/registry.js';
import {
  epochOrFraction,
  imageSize,
  integer,
  MAX,
  positive,
  positiveUpTo,
  swaEvery,
  testFraction,
} from './parse-values.js';

/** The options every command takes. */
export interface Common {
  backend: string;
  threads?: number;
  verbose?: boolean;
  json?: boolean;
  quiet?: boolean;
}

const COMMON_KEYS = ['backend', 'threads', 'verbose', 'json', 'quiet'] as const;

/**
 * The common options of a subcommand, wherever they were typed: `onerun --json train …` and
 * `onerun train --json …` mean the same (the root parses what comes before the subcommand).
 */
export function commonOf(cmd: Command): Common {
  const own = cmd.opts<Common>();
  const root = cmd.parent;
  if (!root) return own;
  const merged: Common = { ...own };
  for (const key of COMMON_KEYS) {
    if (cmd.getOptionValueSource(key) !== 'cli' && root.getOptionValueSource(key) === 'cli')
      Object.assign(merged, { [key]: root.getOptionValue(key) });
  }
  return merged;
}

export function withCommon(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--backend <name>', 'tfjs backend').choices([...BACKEND_NAMES]).default('auto'),
    )
    .option(
      '--threads <n>',
      "TensorFlow's intra-op threads on the native backend (default: from the model, 1 for the MLP, one per core otherwise)",
      integer(1, MAX.threads),
    )
    .option('--verbose', "show TensorFlow's own log lines (native backend)")
    .option('--json', 'print machine-readable JSON on stdout instead of tables')
    .option('--quiet', 'no progress bars');
}

/** `--model`, `--data` and the data options as commander parses them (checked by `trainInput`). */
export interface ModelAndDataCli {
  model: string;
  data: string;
  dataDir?: string;
  imageSize?: [number, number];
  testSplit?: number;
  labelColumn?: string;
}

/** `--model`, `--data` and the options of reading data, as `train` and `compare` take them. */
export function withModelAndData(cmd: Command): Command {
  return cmd
    .option(
      '--model <name|file>',
      `architecture: ${MODEL_NAMES.join(', ')} (preresnet<6n+2>, e.g. preresnet56), a tfjs model.json, or a .js/.mjs module exporting createModel`,
      'mlp',
    )
    .option(
      '--data <name|path>',
      `data: ${DATA_NAMES.join(', ')}, or a folder of class folders of images, a .csv, .npz or .npy file`,
      'fashion-mnist',
    )
    .option(
      '--data-dir <dir>',
      'folder with the IDX files (else $ONERUN_DATA_DIR, Debian, embedded)',
    )
    .option('--image-size <HxW>', '--data images: resize every image to H×W (or N: N×N)', imageSize)
    .option(
      '--test-split <fraction>',
      '--data PATH without a test part: hold out this fraction of each class as test (default 0.2)',
      testFraction,
    )
    .option(
      '--label-column <name|n>',
      'CSV: the label column, by name or 1-based number (default: last)',
    );
}

/** The config fields of the data options that were given. */
export function dataFields(
  opts: ModelAndDataCli,
): Pick<ModelAndDataCli, 'imageSize' | 'testSplit' | 'labelColumn'> {
  return {
    ...(opts.imageSize !== undefined ? { imageSize: opts.imageSize } : {}),
    ...(opts.testSplit !== undefined ? { testSplit: opts.testSplit } : {}),
    ...(opts.labelColumn !== undefined ? { labelColumn: opts.labelColumn } : {}),
  };
}

/** `--data-dir` as an absolute path: a run folder outlives the working directory it was made from. */
export function resolvedDataDir(opts: { dataDir?: string }): { dataDir?: string } {
  return opts.dataDir !== undefined ? { dataDir: resolve(opts.dataDir) } : {};
}

/** Each method's hyperparameters (`MethodKnobs`), as `train` and `compare` both take them. */
export function withMethodOptions(cmd: Command): Command {
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
