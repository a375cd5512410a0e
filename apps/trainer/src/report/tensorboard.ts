import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { appDir } from '../app-dir.js';
import type { EpochRecord } from '../run-folder/records.js';
import type { BackendRecord } from '../training/config.js';
import type { ProgressSink } from '../training/loop.js';

/** The part of tfjs-node's `node.summaryFileWriter` this app uses. */
interface SummaryWriter {
  scalar(name: string, value: number, step: number): void;
  flush(): void;
}

interface NativeModule {
  node?: { summaryFileWriter?: (logdir: string) => SummaryWriter };
}

/**
 * TensorBoard event files of a run (`<dir>/tensorboard/<label>`), written with tfjs-node's
 * `node.summaryFileWriter` when the native backend runs the training: after each epoch the
 * training loss, the learning rate and the test (and validation) metrics, at the epoch's update
 * count. `undefined` on the other backends, which have no event-file writer.
 */
export async function tensorboardSink(
  backend: BackendRecord,
  dir: string,
  label: string,
): Promise<ProgressSink | undefined> {
  if (backend.backend !== 'tensorflow' && backend.backend !== 'tensorflow-gpu') return undefined;
  if (!backend.package) return undefined;
  // The package selectBackend loaded, from where it loaded it: the module is already in memory.
  const path = createRequire(join(appDir(), 'package.json')).resolve(backend.package);
  const native = (await import(pathToFileURL(path).href)) as NativeModule;
  const writer = native.node?.summaryFileWriter?.(join(dir, 'tensorboard', label));
  if (!writer) return undefined;
  return {
    begin() {},
    update() {},
    epochEnd(r: EpochRecord) {
      writer.scalar('train/loss', r.trainLoss, r.step);
      writer.scalar('train/learning_rate', r.lr, r.step);
      if (r.testLoss !== undefined) writer.scalar('test/nll', r.testLoss, r.step);
      if (r.testAccuracy !== undefined) writer.scalar('test/accuracy', r.testAccuracy, r.step);
      if (r.valLoss !== undefined) writer.scalar('val/nll', r.valLoss, r.step);
      if (r.valAccuracy !== undefined) writer.scalar('val/accuracy', r.valAccuracy, r.step);
      writer.flush();
    },
    end() {
      writer.flush();
    },
  };
}

/** One sink that feeds several (the progress bar and the TensorBoard writer). */
export function fanOut(sinks: (ProgressSink | undefined)[]): ProgressSink | undefined {
  const live = sinks.filter((s): s is ProgressSink => s !== undefined);
  if (live.length <= 1) return live[0];
  return {
    begin: (info) => {
      for (const s of live) s.begin(info);
    },
    update: (info) => {
      for (const s of live) s.update(info);
    },
    epochEnd: (record) => {
      for (const s of live) s.epochEnd(record);
    },
    end: () => {
      for (const s of live) s.end();
    },
  };
}
