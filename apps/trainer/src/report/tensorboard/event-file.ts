import { appendFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tfRecord } from './crc32c.js';
import { fileVersionEvent, type ScalarValue, scalarEvent } from './event-proto.js';

/**
 * A TensorBoard event file (`events.out.tfevents.<seconds>.<host>.<pid>` in `dir`), written in plain
 * TypeScript on every backend: TFRecord-framed `Event` protobufs, the first one the file version.
 * Scalars are buffered and appended on `flush` (after each epoch, say), so a training step costs
 * no file write.
 */
export class EventFileWriter {
  readonly path: string;
  private pending: Uint8Array[] = [];

  constructor(dir: string, now: () => number = Date.now) {
    this.now = now;
    mkdirSync(dir, { recursive: true });
    const seconds = now() / 1000;
    this.path = join(
      dir,
      `events.out.tfevents.${Math.floor(seconds)}.${hostname()}.${process.pid}`,
    );
    appendFileSync(this.path, tfRecord(fileVersionEvent(seconds)));
  }

  private readonly now: () => number;

  /** One scalar (or several under one step), written at the next `flush`. */
  scalars(step: number, values: ScalarValue[]): void {
    const finite = values.filter((v) => Number.isFinite(v.value));
    if (finite.length === 0) return;
    this.pending.push(tfRecord(scalarEvent(this.now() / 1000, step, finite)));
  }

  scalar(tag: string, value: number, step: number): void {
    this.scalars(step, [{ tag, value }]);
  }

  /** Appends what is buffered. */
  flush(): void {
    if (this.pending.length === 0) return;
    appendFileSync(this.path, Buffer.concat(this.pending));
    this.pending = [];
  }
}
