import { describeValue, InvalidArgumentError } from '@onerun/core';
import type { SnapshotEntry, SnapshotMeta } from './store.js';

/**
 * Which snapshots a store keeps after each save:
 * - `'all'`: every snapshot;
 * - `{ last: k }`: the `k` most recently saved;
 * - `{ best: k, metric, mode }`: the `k` with the lowest (`'min'`) or highest (`'max'`)
 *   `metrics[metric]`; on a tie the earlier snapshot is kept.
 */
export type RetentionPolicy =
  | 'all'
  | { last: number }
  | { best: number; metric: string; mode: 'min' | 'max' };

function requireCount(argument: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(argument, value, 'an integer ≥ 1');
  }
}

/** Throws `InvalidArgumentError` unless `policy` is a well-formed `RetentionPolicy`. */
export function validateRetention(policy: unknown): RetentionPolicy {
  if (policy === undefined || policy === 'all') return 'all';
  if (typeof policy === 'object' && policy !== null) {
    const p = policy as Record<string, unknown>;
    if ('last' in p && !('best' in p)) {
      requireCount('retain.last', p.last);
      return { last: p.last as number };
    }
    if ('best' in p && !('last' in p)) {
      requireCount('retain.best', p.best);
      if (typeof p.metric !== 'string' || p.metric.length === 0) {
        throw new InvalidArgumentError(
          'retain.metric',
          p.metric,
          'a metric name such as "val_loss"',
        );
      }
      if (p.mode !== 'min' && p.mode !== 'max') {
        throw new InvalidArgumentError('retain.mode', p.mode, "'min' or 'max'");
      }
      return { best: p.best as number, metric: p.metric, mode: p.mode };
    }
  }
  throw new InvalidArgumentError(
    'retain',
    policy,
    "'all', { last: k } or { best: k, metric, mode: 'min' | 'max' }",
  );
}

/**
 * Throws before anything is written when a snapshot could not be ranked by the policy: a
 * `best` policy needs the metric in every snapshot's `metrics`.
 */
export function requireRankable(policy: RetentionPolicy, meta: SnapshotMeta): void {
  if (policy === 'all' || !('best' in policy)) return;
  const value = meta.metrics?.[policy.metric];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(
      `meta.metrics.${policy.metric}`,
      value,
      `a finite number: the store keeps the best ${policy.best} by '${policy.metric}' ` +
        `(got metrics ${describeValue(Object.keys(meta.metrics ?? {}))})`,
    );
  }
}

/** Splits `entries` (oldest first) into those the policy keeps and those it drops, both in order. */
export function applyRetention<E extends SnapshotEntry>(
  entries: readonly E[],
  policy: RetentionPolicy,
): { keep: E[]; drop: E[] } {
  if (policy === 'all') return { keep: [...entries], drop: [] };
  let kept: Set<E>;
  if ('last' in policy) {
    kept = new Set(entries.slice(Math.max(0, entries.length - policy.last)));
  } else {
    const sign = policy.mode === 'min' ? 1 : -1;
    const score = (e: E): number => {
      const v = e.metrics?.[policy.metric];
      // Entries saved without the metric (only possible in stores that changed policy) rank last.
      return typeof v === 'number' && Number.isFinite(v) ? sign * v : Number.POSITIVE_INFINITY;
    };
    const ranked = entries
      .map((e, i) => ({ e, i, s: score(e) }))
      .sort((a, b) => (a.s === b.s ? a.i - b.i : a.s < b.s ? -1 : 1));
    kept = new Set(ranked.slice(0, policy.best).map((r) => r.e));
  }
  return {
    keep: entries.filter((e) => kept.has(e)),
    drop: entries.filter((e) => !kept.has(e)),
  };
}
