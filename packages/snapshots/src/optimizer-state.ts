import { assertSameWeights, weightSpecs } from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import {
  decodeTensors,
  type Locate,
  OPTIMIZER_BIN,
  OPTIMIZER_FORMAT,
  OPTIMIZER_JSON,
  parseJson,
  parseManifest,
} from './artifacts.js';
import { OptimizerStateError, SnapshotCorruptError } from './errors.js';

/** Optimizers whose slots are per-trainable-weight lists in weight order (tfjs-core 4.x). */
const SLOTTED_OPTIMIZERS = new Set(['Adam', 'Momentum', 'RMSProp', 'Adagrad', 'Adadelta']);

/** A checked optimizer state, ready to be written into the model's optimizer. */
interface PreparedOptimizerState {
  commit(): Promise<void>;
}

/**
 * Checks a verified optimizer state against `model` (class, slot shapes) without changing
 * anything; `commit()` then writes it into `model.optimizer` and frees the replaced slots.
 */
export function prepareOptimizerState(
  id: string,
  locate: Locate,
  model: LayersModel,
  jsonBytes: Uint8Array,
  bytes: Uint8Array,
): PreparedOptimizerState {
  const where = locate(OPTIMIZER_JSON);
  const json = parseJson(id, where, jsonBytes);
  if (json.format !== OPTIMIZER_FORMAT || typeof json.className !== 'string') {
    throw new SnapshotCorruptError(id, where, `not an ${OPTIMIZER_FORMAT} file`);
  }
  const { specs, byteSize } = parseManifest(id, where, json.weightsManifest, OPTIMIZER_BIN);
  if (byteSize !== bytes.byteLength) {
    throw new SnapshotCorruptError(
      id,
      where,
      `weightsManifest describes ${byteSize} bytes but ${OPTIMIZER_BIN} has ${bytes.byteLength}`,
    );
  }
  const optimizer = model.optimizer;
  if (optimizer == null) {
    throw new OptimizerStateError(
      `Cannot restore the optimizer state of snapshot '${id}': the model has no optimizer; ` +
        `expected a model compiled with a ${json.className} optimizer.`,
    );
  }
  if (optimizer.getClassName() !== json.className) {
    throw new OptimizerStateError(
      `Cannot restore the optimizer state of snapshot '${id}': it was saved from a ` +
        `${json.className} optimizer but the model has a ${optimizer.getClassName()}; expected the same class.`,
    );
  }
  if (SLOTTED_OPTIMIZERS.has(json.className)) {
    const slots = specs[0]?.name === 'iter' ? specs.slice(1) : specs;
    const trainable = weightSpecs(model, 'trainable');
    const rounds = trainable.length === 0 ? 0 : Math.round(slots.length / trainable.length);
    const expected = Array.from({ length: rounds }, () => trainable).flat();
    assertSameWeights(
      slots.map((s) => ({ name: s.name, shape: [...s.shape], dtype: s.dtype })),
      expected,
      `snapshot '${id}' optimizer state vs the model's trainable weights`,
    );
  }
  return {
    async commit() {
      const previous = await optimizer.getWeights();
      const tensors = decodeTensors(specs, bytes);
      let replaced = false;
      try {
        await optimizer.setWeights(specs.map((s, i) => ({ name: s.name, tensor: tensors[i]! })));
        replaced = true;
      } finally {
        // setWeights makes new variables sharing the decoded storage, so these can go.
        tf.dispose(tensors);
        // The previous slot variables are unreachable once replaced; the iteration scalar always is.
        for (const { tensor } of previous) {
          if (replaced || !(tensor instanceof tf.Variable)) tensor.dispose();
        }
      }
    },
  };
}
