import type { Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';

/** A layer call's single tensor input, or undefined when it has several. */
export function onlyTensor(inputs: Tensor | Tensor[]): Tensor | undefined {
  if (!Array.isArray(inputs)) return inputs;
  return inputs.length === 1 ? inputs[0] : undefined;
}

type Method = (this: never, ...args: never[]) => unknown;

/** What a replacement carries: the marker, the method it replaced, and where that lived. */
interface Replacement {
  stock: unknown;
  /** Whether the stock method was the prototype's own property (else inherited). */
  own: boolean;
}

/** The prototype of the class tfjs registered for serialization under `className`, if any. */
function registeredPrototype(className: string): Record<string, unknown> | undefined {
  const map = tf.serialization.SerializationMap.getMap().classNameMap as Record<
    string,
    [unknown, unknown]
  >;
  return (map[className]?.[0] as { prototype: Record<string, unknown> } | undefined)?.prototype;
}

/**
 * Replaces `method` on the prototype of the class tfjs registered for serialization under
 * `className` (tfjs-layers' `Dense`, `BatchNormalization`, `Model`…) with `wrap(stock)`, once:
 * the registry is shared by every copy of tfjs in the process, and `marker` (a `Symbol.for`, so
 * every copy of this package agrees) says the method is already ours. Returns false when no such
 * class is registered (tfjs-layers not loaded yet). {@link unpatchRegisteredClass} undoes it.
 */
export function patchRegisteredClass<F extends Method>(
  className: string,
  method: string,
  marker: symbol,
  wrap: (stock: F) => F,
): boolean {
  const prototype = registeredPrototype(className);
  if (prototype === undefined) return false;
  const stock = prototype[method] as F & { [key: symbol]: unknown };
  if (stock[marker] === true) return true;
  const replacement = wrap(stock);
  const record: Replacement = { stock, own: Object.hasOwn(prototype, method) };
  Object.assign(replacement, { [marker]: true, ...record });
  prototype[method] = replacement;
  return true;
}

/**
 * Puts back the method {@link patchRegisteredClass} replaced (the very function, own or
 * inherited as it was). Returns whether there was a replacement to undo.
 */
export function unpatchRegisteredClass(className: string, method: string, marker: symbol): boolean {
  const prototype = registeredPrototype(className);
  const current = prototype?.[method] as (Replacement & { [key: symbol]: unknown }) | undefined;
  if (prototype === undefined || current?.[marker] !== true) return false;
  if (current.own) prototype[method] = current.stock;
  else delete prototype[method];
  return true;
}
