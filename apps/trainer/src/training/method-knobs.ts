import { type RunConfigInput, startFraction } from './config.js';

/**
 * Each method's hyperparameters as `train` and `compare` take them (`--eval-every`, `--sse-lr`,
 * `--fge-*`, `--swa-*`, `--swag-*`): the starts as the user gives them, an epoch or a fraction.
 */
export interface MethodKnobs {
  /** Test metrics every this many epochs (0: only at the end; default 1). */
  evalEvery?: number;
  /** SSE: peak rate α0 of each cycle (default `lr`). */
  sseLr?: number;
  /** FGE: where collection starts (an epoch, or a fraction of the epochs; default 0.8). */
  fgeStart?: number;
  /** FGE: cycle length in epochs (default: the collection phase split into its cycles). */
  fgeCycleEpochs?: number;
  fgeLr1?: number;
  fgeLr2?: number;
  /** SWA: where averaging starts (an epoch, or a fraction of SWA's epochs; default 0.75). */
  swaStart?: number;
  swaLr?: number;
  /** SWA: average every this many updates, or once per epoch (default). */
  swaEvery?: number | 'epoch';
  /** SWA: also fit SWAG with this many deviation columns, scored with `swagSamples` draws. */
  swagRank?: number;
  swagSamples?: number;
}

/** The knobs of `MethodKnobs`, in the order they are listed (and recorded). */
export const METHOD_KNOB_KEYS = [
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
] as const satisfies readonly (keyof MethodKnobs)[];

/** The entries of `from` named by `keys` that are set, in the order of `keys`. */
export function pickDefined<T, K extends keyof T>(
  from: T,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (from[key] !== undefined) out[key] = from[key];
  return out;
}

/** SSE's knobs as config fields. */
export function sseFields(knobs: MethodKnobs): Pick<RunConfigInput, 'sseLr'> {
  return knobs.sseLr !== undefined ? { sseLr: knobs.sseLr } : {};
}

/** FGE's knobs as config fields: `fgeStart` as the fraction of `epochs` trained before collecting. */
export function fgeFields(
  knobs: MethodKnobs,
  epochs: number,
): Pick<RunConfigInput, 'pretrainFraction' | 'fgeCycleEpochs' | 'fgeLr1' | 'fgeLr2'> {
  return {
    ...(knobs.fgeStart !== undefined
      ? { pretrainFraction: startFraction('--fge-start', knobs.fgeStart, epochs) }
      : {}),
    ...pickDefined(knobs, ['fgeCycleEpochs', 'fgeLr1', 'fgeLr2']),
  };
}

/** SWA's (and SWAG's) knobs as config fields: `swaStart` as the fraction of `epochs` before averaging. */
export function swaFields(
  knobs: MethodKnobs,
  epochs: number,
): Pick<RunConfigInput, 'swaStartFraction' | 'swaLr' | 'swaEvery' | 'swagRank' | 'swagSamples'> {
  return {
    ...(knobs.swaStart !== undefined
      ? { swaStartFraction: startFraction('--swa-start', knobs.swaStart, epochs) }
      : {}),
    ...pickDefined(knobs, ['swaLr', 'swaEvery', 'swagRank', 'swagSamples']),
  };
}

/**
 * Every method's knobs as the config fields of a run of `epochs` epochs (a run records them
 * all; its method's own take effect). A bad `--swa-start` is named before a bad `--fge-start`.
 */
export function methodFields(
  knobs: MethodKnobs,
  epochs: number,
): ReturnType<typeof sseFields> &
  ReturnType<typeof fgeFields> &
  ReturnType<typeof swaFields> &
  Pick<RunConfigInput, 'evalEvery'> {
  const swa = swaFields(knobs, epochs);
  const fge = fgeFields(knobs, epochs);
  return { ...pickDefined(knobs, ['evalEvery']), ...sseFields(knobs), ...fge, ...swa };
}
