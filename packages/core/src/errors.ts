/**
 * Base class of every error the onerun packages throw on purpose. `code` is stable and meant for
 * programs; `message` is for people and names the bad value and what was expected.
 */
export class OnerunError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An argument was out of range, of the wrong kind, or inconsistent with another argument. */
export class InvalidArgumentError extends OnerunError {
  readonly argument: string;
  readonly value: unknown;

  constructor(argument: string, value: unknown, expected: string) {
    super(
      'INVALID_ARGUMENT',
      `Invalid ${argument}: got ${describeValue(value)}; expected ${expected}.`,
    );
    this.argument = argument;
    this.value = value;
  }
}

/** Two weight lists (models, snapshots, curve ends) do not describe the same architecture. */
export class WeightMismatchError extends OnerunError {
  constructor(message: string) {
    super('WEIGHT_MISMATCH', message);
  }
}

/** A tensor that must hold finite values holds NaN or ±Infinity. */
export class NonFiniteError extends OnerunError {
  constructor(what: string) {
    super('NON_FINITE', `${what} contains NaN or Infinity; expected finite values only.`);
  }
}

/**
 * An object (an averager, a curve, an ensemble, …) was used after `dispose()`. `what` names the
 * call, e.g. `'Swag.update'`; `owner` the object (default: the class name before the dot).
 */
export class DisposedError extends OnerunError {
  constructor(what: string, owner: string = what.split('.')[0] ?? what) {
    super('DISPOSED', `${what} was called on a disposed ${owner}; expected a live one.`);
  }
}

/**
 * The runtime lacks something a feature needs (WebCrypto, a tfjs kernel); `message` names what
 * is missing and what was expected.
 */
export class UnsupportedEnvironmentError extends OnerunError {
  constructor(missing: string, expected: string) {
    super('UNSUPPORTED_ENVIRONMENT', `${missing}; expected ${expected}.`);
  }
}

/** A short, single-line rendering of any value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) {
    const head = value.slice(0, 8).map(describeValue).join(', ');
    return `[${head}${value.length > 8 ? `, … (${value.length} items)` : ''}]`;
  }
  if (typeof value === 'object') {
    const shape = (value as { shape?: unknown }).shape;
    if (Array.isArray(shape)) return `a tensor of shape [${shape.join(', ')}]`;
    const ctor = (value as object).constructor?.name;
    return ctor && ctor !== 'Object' ? `a ${ctor}` : 'an object';
  }
  return typeof value;
}
