import type * as tfjs from '@tensorflow/tfjs';

/**
 * He-normal initializers with a different, reproducible seed per layer (equal seeds would give
 * equal kernels of equal shape).
 */
export function heNormalPerLayer(
  tf: typeof tfjs,
  seed: number,
): () => ReturnType<typeof tfjs.initializers.heNormal> {
  let layer = 0;
  return () => tf.initializers.heNormal({ seed: (seed * 7919 + ++layer * 104729) % 2147483647 });
}
