/**
 * The one name of each model variant a run produces, used alike in tables, `metrics.csv`,
 * `metrics.json`, snapshot tags (`tags.kind`), `eval` and the report:
 * - the method's result: the method's own name (`baseline`, `sse`, `fge`, `swa`);
 * - `fge-start`: the model FGE's cycles start from (tag `start`);
 * - `swa-stale-bn`: SWA's average with the last SGD iterate's batch-norm statistics;
 * - `sgd`: the last SGD iterate of an SWA run;
 * - `swag`: SWAG's Bayesian model average;
 * - `swa-at-E`, `swa-stale-bn-at-E`, `swag-at-E`: the same after epoch E (`--swa-score-at`);
 * - `member-i`: the i-th collected model alone; `first-k`, `last-k`: ensembles of k members;
 * - `iterate`: the model being trained, measured after each epoch.
 */
export const VARIANTS = {
  start: 'fge-start',
  staleBatchNorm: 'swa-stale-bn',
  sgd: 'sgd',
  swag: 'swag',
  iterate: 'iterate',
} as const;

/** Snapshot tag kinds of the SWA models saved before the end of a run. */
export const MILESTONE_KINDS = { bn: 'swa-at', stale: 'swa-stale-bn-at' } as const;

/** Tag kinds written before the names were unified, read as their current name. */
const LEGACY_KINDS: Record<string, string> = {
  'swa-no-bn': VARIANTS.staleBatchNorm,
  'swa-no-bn-at': MILESTONE_KINDS.stale,
};

/** A snapshot's kind under its current name (run folders written before keep working). */
export function currentKind(kind: string | undefined): string | undefined {
  return kind === undefined ? undefined : (LEGACY_KINDS[kind] ?? kind);
}

/** The variant name of an SWA model scored after `epoch` (`swa-at-12`, `swa-stale-bn-at-12`…). */
export function atEpoch(variant: string, epoch: number): string {
  return `${variant}-at-${epoch}`;
}

/** A stored model's variant name: `member-3` for the third member, else its (current) kind. */
export function memberVariant(kind: string, index: number): string {
  return kind === 'member' ? `member-${index + 1}` : (currentKind(kind) ?? kind);
}
