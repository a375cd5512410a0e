import type { NamedAttrMap } from '@tensorflow/tfjs-core';

/**
 * A kernel's attributes as the interface its kernel declares (tfjs's own `Conv2DBackpropInputAttrs`,
 * `SumAttrs`…, or ours in `training/kernel-names.ts`). tfjs hands every kernel and gradient a
 * `NamedAttrMap`, and its attribute interfaces carry no index signature, so the conversion is an
 * unchecked cast: it is made here, once, under this name.
 */
export function kernelAttrs<A extends object>(attrs: NamedAttrMap | undefined): A {
  return attrs as unknown as A;
}
