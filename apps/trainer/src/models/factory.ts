import type * as tfjs from '@tensorflow/tfjs';

/**
 * What a model module's `createModel` is handed. Build every layer with this `tf` (the app's
 * tfjs, bound to its backend): a module importing its own copy of tfjs builds layers on another
 * instance, which the app refuses with a `ModelFitError`.
 */
export interface CreateModelArgs {
  tf: typeof tfjs;
  /** Shape of one example (`[h, w, c]` images, `[f]` features). */
  inputShape: number[];
  /** Number of classes: the model's output is one probability per class (softmax). */
  classes: number;
  /** Seed for every initializer, so the same seed builds the same weights. */
  seed: number;
}

/**
 * A model module: an ES module exporting `createModel`, which returns an uncompiled
 * `tf.LayersModel` (or a promise of one) ending in a softmax over `classes`. The app compiles it with its own
 * optimizer and loss.
 */
export interface ModelModule {
  createModel(args: CreateModelArgs): tfjs.LayersModel | Promise<tfjs.LayersModel>;
}
