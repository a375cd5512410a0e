import type { LayersModel } from '@tensorflow/tfjs-layers';

/** A tfjs layer, as found in `model.layers`. */
export type Layer = LayersModel['layers'][number];

function hasLayers(layer: Layer): layer is Layer & { layers: Layer[] } {
  return Array.isArray((layer as { layers?: unknown }).layers);
}

/**
 * Every layer of `model`, depth first, descending into nested models (a `Sequential` or
 * functional model used as a layer). Each layer is yielded once, even if it is shared.
 */
export function* walkLayers(model: LayersModel | Layer): Generator<Layer> {
  const seen = new Set<Layer>();
  function* visit(layer: Layer): Generator<Layer> {
    if (seen.has(layer)) return;
    seen.add(layer);
    if (hasLayers(layer)) {
      for (const inner of layer.layers) yield* visit(inner);
    } else {
      yield layer;
    }
  }
  for (const layer of (model as { layers: Layer[] }).layers) yield* visit(layer);
}

/** True for tfjs's `BatchNormalization` layer (the only layer with moving statistics). */
export function isBatchNormLayer(layer: Layer): boolean {
  return layer.getClassName() === 'BatchNormalization';
}

/** All batch-norm layers of `model`, nested models included. */
export function batchNormLayers(model: LayersModel): Layer[] {
  return [...walkLayers(model)].filter(isBatchNormLayer);
}
