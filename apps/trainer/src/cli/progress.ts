import cliProgress from 'cli-progress';
import type { EpochRecord } from '../run-folder/records.js';
import type { ProgressSink } from '../training/loop.js';

/**
 * Training progress on stderr: progress bars when it is a terminal, else one plain line per
 * epoch (for logs, CI and job schedulers, where redrawn bars would be noise).
 */
export function progressSink(
  label: string,
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
): ProgressSink {
  return stream.isTTY
    ? progressBar(label, stream as NodeJS.WriteStream)
    : epochLines(label, stream);
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/**
 * `sse epoch 3/10: loss 0.4123, lr 0.0123, test 84.20% (NLL 0.452), 1.2 s`, one line per epoch,
 * named by the run's own method (`begin`'s label), whatever the sink was made for.
 */
export function epochLines(label: string, stream: NodeJS.WritableStream): ProgressSink {
  let epochs = 0;
  let name = label;
  return {
    begin(info) {
      epochs = info.epochs;
      name = info.label;
    },
    update() {},
    epochEnd(r: EpochRecord) {
      const parts = [`loss ${r.trainLoss.toFixed(4)}`, `lr ${r.lr.toPrecision(3)}`];
      if (r.testAccuracy !== undefined)
        parts.push(
          `test ${pct(r.testAccuracy)}${r.testLoss !== undefined ? ` (NLL ${r.testLoss.toFixed(3)})` : ''}`,
        );
      if (r.valAccuracy !== undefined) parts.push(`val ${pct(r.valAccuracy)}`);
      parts.push(`${r.seconds.toFixed(1)} s`);
      stream.write(`${name} epoch ${r.epoch}/${epochs}: ${parts.join(', ')}\n`);
    },
    end() {},
  };
}

/**
 * Progress bars (cli-progress): one bar per run over its updates, showing the epoch, the latest
 * training loss and learning rate, and after each epoch the test accuracy.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream): ProgressSink {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `{label} {bar} {percentage}% | epoch {epoch}/{epochs} | loss {loss} | lr {lr} | test {acc} | ETA {eta_formatted}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 8,
    },
    cliProgress.Presets.shades_classic,
  );
  let name = label.padEnd(8);
  let epochs = 0;
  let perEpoch = 0;
  let startEpoch = 0;
  let total = 1;
  let acc = '-';
  return {
    begin(info) {
      epochs = info.epochs;
      perEpoch = info.stepsPerEpoch;
      startEpoch = info.startEpoch;
      total = Math.max(1, (epochs - startEpoch) * perEpoch);
      name = info.label.padEnd(8);
      bar.start(total, 0, { label: name, epoch: startEpoch + 1, epochs, loss: '-', lr: '-', acc });
    },
    update(info) {
      bar.update((info.epoch - startEpoch) * perEpoch + info.batch, {
        label: name,
        epoch: info.epoch + 1,
        epochs,
        loss: info.loss === undefined ? '-' : info.loss.toFixed(4),
        lr: info.lr.toPrecision(3),
        acc,
      });
    },
    epochEnd(record: EpochRecord) {
      if (record.testAccuracy !== undefined) acc = `${pct(record.testAccuracy)}`;
      bar.update({ acc });
    },
    end() {
      // A run may end before its budget (FGE stops after its last cycle): it is complete.
      bar.update(total, { acc });
      bar.stop();
    },
  };
}

/**
 * Says at the start of a resumed run which run resumes from where (`fge: resumed from the
 * checkpoint after epoch 5 of 12`), then passes everything on to `inner` (if any).
 */
export function withResumeNotice(
  inner: ProgressSink | undefined,
  say: (line: string) => void,
): ProgressSink {
  return {
    begin(info) {
      if (info.startEpoch > 0)
        say(
          `${info.label}: resumed from the checkpoint after epoch ${info.startEpoch} of ${info.epochs}`,
        );
      inner?.begin(info);
    },
    update: (info) => inner?.update(info),
    epochEnd: (record) => inner?.epochEnd(record),
    end: () => inner?.end(),
  };
}
