import * as tf from '@tensorflow/tfjs';
import { firstNonFinite, weightSum } from './divergence.js';
import { yieldToSignals } from './yield-to-signals.js';

/**
 * The batch losses of an epoch, read back a window at a time (reading every batch's loss would
 * stall the backend's queue), each read checking that the losses and the weights are finite.
 */
export class LossWindow {
  private readonly losses: tf.Scalar[] = [];
  /** Sum of the losses read so far. */
  sum = 0;
  /** Mean loss of the last window read. */
  last: number | undefined;

  constructor(private readonly size: number) {}

  /** Takes `loss` (disposed when the window is read). */
  add(loss: tf.Scalar): void {
    this.losses.push(loss);
  }

  get full(): boolean {
    return this.losses.length === this.size;
  }

  /**
   * Reads the window's losses and the sum of all weights in one read, empties the window and
   * returns its mean loss. `lastStep` is the 0-based update of the newest loss; on a non-finite
   * loss or weight throws what `diverged` makes of the 1-based update where it was seen.
   */
  async read(
    lastStep: number,
    model: tf.LayersModel,
    diverged: (step: number, what: string) => Error,
  ) {
    const stacked = tf.tidy(() => tf.concat([tf.stack(this.losses), weightSum(model)]));
    const read = await stacked.data();
    tf.dispose([stacked, ...this.losses]);
    const values = read.subarray(0, this.losses.length);
    this.losses.length = 0;
    const bad = firstNonFinite(values);
    if (bad >= 0 || !Number.isFinite(read[read.length - 1]!)) {
      throw diverged(
        bad >= 0 ? lastStep + 2 - values.length + bad : lastStep + 1,
        bad >= 0 ? `the training loss is ${values[bad]}` : 'the weights are no longer finite',
      );
    }
    await yieldToSignals();
    let sum = 0;
    for (const v of values) sum += v;
    this.sum += sum;
    this.last = sum / values.length;
    return this.last;
  }
}
