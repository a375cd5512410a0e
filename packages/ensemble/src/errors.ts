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
