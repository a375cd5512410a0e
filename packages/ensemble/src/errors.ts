import { OnerunError } from '@onerun/core';

/** Which of a member's shapes disagreed with the ensemble's. */
export type MemberShapeKind = 'input' | 'output';

/**
 * An ensemble member's input or output shape differs from the first member's (or its output is
 * not a `[batch, classes]` probability matrix). Names the member by position, snapshot id where it
 * came from a store, and model name.
 */
export class MemberShapeMismatchError extends OnerunError {
  /** 0-based position of the offending member in the ensemble. */
  readonly member: number;
  readonly kind: MemberShapeKind;
  readonly expected: string;
  readonly actual: string;

  constructor(
    member: number,
    memberName: string,
    kind: MemberShapeKind,
    actual: string,
    expected: string,
  ) {
    super(
      'MEMBER_SHAPE_MISMATCH',
      `Ensemble ${memberName} has ${kind} shape ${actual}; expected ${expected}.`,
    );
    this.member = member;
    this.kind = kind;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * `combine: 'logit-mean'` needs each member's pre-softmax outputs, and this member exposes none
 * that onerun can find: its output layer is not a softmax (a `Dense` with
 * `activation: 'softmax'`, an `Activation('softmax')` or a `Softmax` layer) and no `logits`
 * function or `output: 'logits'` was given.
 */
export class LogitsUnavailableError extends OnerunError {
  readonly member: number;

  constructor(member: number, memberName: string, reason: string) {
    super(
      'LOGITS_UNAVAILABLE',
      `Ensemble ${memberName} exposes no logits for combine 'logit-mean': ${reason}. ` +
        "Expected a final softmax (Dense with activation 'softmax', an Activation('softmax') or " +
        "a Softmax layer), a `logits` function in the options, or `output: 'logits'` for " +
        "members that already output logits; or use combine 'geometric', which equals " +
        'logit-mean for softmax members.',
    );
    this.member = member;
  }
}

/**
 * `Ensemble.fromStore` was asked for every snapshot of a store that holds snapshots of more
 * than one kind (`tags.kind`): an SWA run's last SGD iterate, its average without and with the
 * batch-norm recompute, or an FGE run's start model next to its members. Averaging them would
 * not be the run's ensemble. Choose with `{ kind }` (or `{ ids }`).
 */
export class MixedSnapshotKindsError extends OnerunError {
  /** Each kind the store holds, with its number of snapshots. */
  readonly kinds: readonly (readonly [kind: string, count: number])[];

  constructor(kinds: readonly (readonly [string, number])[]) {
    const list = kinds.map(([kind, n]) => `${kind} ×${n}`).join(', ');
    const example =
      kinds.find(([kind]) => kind === 'member' || kind === 'swa')?.[0] ?? kinds[0]?.[0];
    super(
      'MIXED_SNAPSHOT_KINDS',
      `The store holds snapshots of ${kinds.length} kinds (${list}); an ensemble of all of them would mix models that are not members of one ensemble. Choose one with Ensemble.fromStore(store, { kind: '${example}' }) (or pass ids).`,
    );
    this.kinds = kinds;
  }
}
