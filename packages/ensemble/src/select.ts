import { InvalidArgumentError, requireInteger } from '@onerun/core';
import { MixedSnapshotKindsError } from './errors.js';

/** What selection needs of a listed snapshot: its id and, where set, its `tags.kind`. */
export interface ListedSnapshot {
  readonly id: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** Which snapshots of a listing make an ensemble. */
export interface SnapshotSelection {
  /**
   * Only the snapshots whose `tags.kind` is this, oldest first: `'member'` for the members of an
   * onerun SSE, FGE or baseline run, `'swa'` for an SWA run's averaged model. Required (or `ids`)
   * when the store holds more than one kind.
   */
  kind?: string;
  /** Snapshot ids, in ensemble order; default every snapshot the store lists (oldest first). */
  ids?: readonly string[];
  /** Keep only the last `last` of the selected snapshots (SSE often ensembles the last m). */
  last?: number;
}

/** The key a snapshot's kind is read from: `tags.kind`, as onerun's app and presets write it. */
export const KIND_TAG = 'kind';

function kindOf(entry: ListedSnapshot): string | undefined {
  return entry.tags?.[KIND_TAG];
}

/** Each kind present in a listing with its count, in order of first appearance. */
function kindCounts(listed: readonly ListedSnapshot[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entry of listed) {
    const kind = kindOf(entry) ?? '(none)';
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

function describeKinds(counts: Map<string, number>): string {
  return [...counts].map(([kind, n]) => `${kind} ×${n}`).join(', ');
}

/**
 * The ids of the snapshots an ensemble is made of, from a store's listing (oldest first):
 * those of `kind`, or `ids` in the order given, then the `last` k. A store holding snapshots of
 * more than one kind (an SWA run's `sgd`, `swa-stale-bn` and `swa`; an FGE run's `start` and
 * `member`s) must be told which: averaging them silently would mix models that are not members
 * of one ensemble.
 *
 * @throws MixedSnapshotKindsError when neither `kind` nor `ids` is given and the listing holds
 *   more than one kind (snapshots without a kind count as one kind of their own).
 * @throws InvalidArgumentError for an unknown id, an id of another kind than `kind`, a `kind`
 *   no snapshot has, a `last` larger than the selection, or an empty selection.
 */
export function selectSnapshots(
  listed: readonly ListedSnapshot[],
  selection: SnapshotSelection,
  /** Named in the error for an empty selection. */
  store: unknown = undefined,
): string[] {
  const { kind } = selection;
  if (kind !== undefined && (typeof kind !== 'string' || kind === '')) {
    throw new InvalidArgumentError('kind', kind, "a snapshot kind such as 'member' or 'swa'");
  }
  const counts = kindCounts(listed);
  let ids: string[];
  if (selection.ids !== undefined) {
    if (!Array.isArray(selection.ids)) {
      throw new InvalidArgumentError('ids', selection.ids, 'an array of snapshot ids');
    }
    const byId = new Map(listed.map((e) => [e.id, e]));
    selection.ids.forEach((id, i) => {
      const entry = byId.get(id);
      if (!entry) {
        throw new InvalidArgumentError(
          `ids[${i}]`,
          id,
          `an id the store lists (${listed.length} snapshots)`,
        );
      }
      if (kind !== undefined && kindOf(entry) !== kind) {
        throw new InvalidArgumentError(
          `ids[${i}]`,
          id,
          `a snapshot of kind '${kind}' (it is of kind '${kindOf(entry) ?? '(none)'}')`,
        );
      }
    });
    ids = [...selection.ids];
  } else if (kind !== undefined) {
    ids = listed.filter((e) => kindOf(e) === kind).map((e) => e.id);
    if (ids.length === 0) {
      throw new InvalidArgumentError(
        'kind',
        kind,
        `a kind the store holds (${describeKinds(counts) || 'no snapshots'})`,
      );
    }
  } else {
    if (counts.size > 1) throw new MixedSnapshotKindsError([...counts]);
    ids = listed.map((e) => e.id);
  }
  if (selection.last !== undefined) {
    const last = requireInteger('last', selection.last, 1);
    if (last > ids.length) {
      throw new InvalidArgumentError(
        'last',
        last,
        `at most ${ids.length}, the number of snapshots selected`,
      );
    }
    ids = ids.slice(ids.length - last);
  }
  if (ids.length === 0) {
    throw new InvalidArgumentError('store', store, 'a store holding at least one snapshot');
  }
  return ids;
}
