import * as tf from '@tensorflow/tfjs';
import { ModelFitError } from '../errors.js';

function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'any' : d)).join(', ')}]`;
}

/** Whether the layer producing the model's output ends in a softmax. */
function endsInSoftmax(model: tf.LayersModel): { ok: boolean; layer: string } {
  const layer = model.outputs[0]!.sourceLayer;
  const config = layer.getConfig() as { activation?: unknown };
  const kind = layer.getClassName();
  return {
    ok: kind === 'Softmax' || config.activation === 'softmax',
    layer: `'${layer.name}' (${kind}${config.activation !== undefined ? `, activation ${String(config.activation)}` : ''})`,
  };
}

/**
 * Checks a model against the data before anything is trained: it is a `tf.LayersModel` of the
 * app's tfjs, takes one input of the data's example shape, and gives one probability per class
 * (a softmax output of `classes` units). Throws `ModelFitError` naming the model and the fix.
 */
export function checkModelFits(
  model: unknown,
  label: string,
  inputShape: readonly number[],
  classes: number,
): asserts model is tf.LayersModel {
  if (!(model instanceof tf.LayersModel)) {
    const looksLikeOne =
      model !== null && typeof model === 'object' && 'layers' in model && 'predict' in model;
    throw new ModelFitError(
      looksLikeOne
        ? `${label} returned a model built with another copy of tfjs than the app's; build every layer with the tf handed to createModel({ tf, … }) instead of importing @tensorflow/tfjs in the module.`
        : `${label} did not return a tf.LayersModel (got ${model === null ? 'null' : typeof model}); createModel must return a model built with tf.sequential() or tf.model().`,
    );
  }
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ModelFitError(
      `${label} has ${model.inputs.length} inputs and ${model.outputs.length} outputs; expected one input (the examples) and one output (class probabilities).`,
    );
  }
  const input = model.inputs[0]!.shape.slice(1);
  const fits =
    input.length === inputShape.length && input.every((d, i) => d === null || d === inputShape[i]);
  if (!fits) {
    throw new ModelFitError(
      `${label} takes inputs of shape ${shapeText(input)} but the data's examples are ${shapeText(inputShape)}; build the model for inputShape ${shapeText(inputShape)} (createModel is handed it), or choose data of the model's shape (--image-size resizes images).`,
    );
  }
  const output = model.outputs[0]!.shape;
  if (output.length !== 2 || output[1] !== classes) {
    throw new ModelFitError(
      `${label} outputs shape ${shapeText(output.slice(1))} but the data has ${classes} classes; expected one probability per class, [${classes}].`,
    );
  }
  const softmax = endsInSoftmax(model);
  if (!softmax.ok) {
    throw new ModelFitError(
      `${label}'s output layer ${softmax.layer} does not end in a softmax: the app trains on class probabilities. If it outputs logits, give the last layer activation: 'softmax' (or add tf.layers.softmax() after it).`,
    );
  }
}
