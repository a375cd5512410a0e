import type { Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';

/** A layer call's single tensor input, or undefined when it has several. */
export function onlyTensor(inputs: Tensor | Tensor[]): Tensor | undefined {
  if (!Array.isArray(inputs)) return inputs;
  return inputs.length === 1 ? inputs[0] : undefined;
}

type Method = (this: never, ...args: never[]) => unknown;

/**
 * Replaces `method` on the prototype of the class tfjs registered for serialization under
 * `className` (tfjs-layers' `Dense`, `BatchNormalization`, `Model`…) with `wrap(stock)`, once:
 * the registry is shared by every copy of tfjs in the process, and `marker` (a `Symbol.for`, so
 * every copy of this package agrees) says the method is already ours. Returns false when no such
 * class is registered (tfjs-layers not loaded yet).
 */
export function patchRegisteredClass<F extends Method>(
  className: string,
  method: string,
  marker: symbol,
  wrap: (stock: F) => F,
): boolean {
  const map = tf.serialization.SerializationMap.getMap().classNameMap as Record<
    string,
    [unknown, unknown]
  >;
  const cls = map[className]?.[0] as { prototype: Record<string, unknown> } | undefined;
  if (cls === undefined) return false;
  const stock = cls.prototype[method] as F & { [key: symbol]: unknown };
  if (stock[marker] === true) return true;
  const replacement = wrap(stock);
  Object.assign(replacement, { [marker]: true, stock });
  cls.prototype[method] = replacement;
  return true;
}
