// Shared by this package's tests only (not exported from index.ts).
import { MemorySnapshotStore } from '@onerun/snapshots';
import * as tf from '@tensorflow/tfjs';

/** How a table model ends. */
type Head = 'dense-softmax' | 'activation' | 'softmax-layer' | 'linear';

/**
 * A model whose output for input row `eye(n)[i]` is `softmax(table[i])` (or `table[i]` itself for a
 * linear head): one bias-free Dense layer with the table as its kernel, so a test sets each
 * member's logits, or its probabilities via `table = log(p)`, exactly.
 */
export function tableModel(table: number[][], head: Head = 'dense-softmax'): tf.LayersModel {
  const n = table.length;
  const classes = (table[0] as number[]).length;
  const dense = tf.layers.dense({
    inputShape: [n],
    units: classes,
    useBias: false,
    activation: head === 'dense-softmax' ? 'softmax' : 'linear',
  });
  const layers: tf.layers.Layer[] = [dense];
  if (head === 'activation') layers.push(tf.layers.activation({ activation: 'softmax' }));
  if (head === 'softmax-layer') layers.push(tf.layers.softmax());
  const model = tf.sequential({ layers });
  const kernel = tf.tensor2d(table);
  dense.setWeights([kernel]);
  kernel.dispose();
  return model;
}

/** A table model that outputs exactly-ish the probabilities `probs` (kernel = log p). */
export function probabilityModel(probs: number[][]): tf.LayersModel {
  return tableModel(probs.map((row) => row.map(Math.log)));
}

/** A small seeded MLP with batch norm, like the reference model at toy size. */
export function mlp(seed: number, inputs = 8, classes = 4): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [inputs], units: 12, kernelInitializer: init(seed) }),
      tf.layers.batchNormalization({
        gammaInitializer: tf.initializers.randomUniform({
          minval: 0.5,
          maxval: 1.5,
          seed: seed + 1,
        }),
        betaInitializer: tf.initializers.randomUniform({
          minval: -0.5,
          maxval: 0.5,
          seed: seed + 2,
        }),
      }),
      tf.layers.reLU(),
      tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init(seed + 3) }),
    ],
  });
}

/** True once a model's weights have been disposed. */
export function isDisposed(model: tf.LayersModel): boolean {
  try {
    model.getWeights();
    return false;
  } catch {
    return true;
  }
}

/**
 * The real `MemorySnapshotStore`, recording every model it loads so a test can check how many
 * were alive at once.
 */
export class TrackingStore extends MemorySnapshotStore {
  readonly loaded: tf.LayersModel[] = [];
  /** Largest number of models loaded since `track()` and not yet disposed, seen at any load. */
  maxAlive = 0;
  private trackFrom = 0;

  /** Starts counting `maxAlive` afresh (models loaded earlier are not counted). */
  track(): void {
    this.trackFrom = this.loaded.length;
    this.maxAlive = 0;
  }

  override async load(id: string): Promise<tf.LayersModel> {
    const model = await super.load(id);
    this.loaded.push(model);
    const alive = this.loaded.slice(this.trackFrom).filter((m) => !isDisposed(m)).length;
    this.maxAlive = Math.max(this.maxAlive, alive);
    return model;
  }
}
