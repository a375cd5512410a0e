import cliProgress from 'cli-progress';
import type { EpochRecord } from './records.js';
import type { ProgressSink } from './train.js';

/**
 * Progress bars on stderr (cli-progress): one bar per run over its updates, showing the epoch,
 * the latest training loss and learning rate, and after each epoch the test accuracy. Returns
 * `undefined` (no output at all) when stderr is not a terminal.
 */
export function progressBar(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressSink | undefined {
  if (!stream.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label.padEnd(8)} {bar} {percentage}% | epoch {epoch}/{epochs} | loss {loss} | lr {lr} | test {acc} | ETA {eta_formatted}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 8,
    },
    cliProgress.Presets.shades_classic,
  );
  let epochs = 0;
  let perEpoch = 0;
  let startEpoch = 0;
  let acc = '-';
  return {
    begin(info) {
      epochs = info.epochs;
      perEpoch = info.stepsPerEpoch;
      startEpoch = info.startEpoch;
      bar.start(Math.max(1, (epochs - startEpoch) * perEpoch), 0, {
        epoch: startEpoch + 1,
        epochs,
        loss: '-',
        lr: '-',
        acc,
      });
    },
    update(info) {
      bar.update((info.epoch - startEpoch) * perEpoch + info.batch, {
        epoch: info.epoch + 1,
        epochs,
        loss: info.loss === undefined ? '-' : info.loss.toFixed(4),
        lr: info.lr.toPrecision(3),
        acc,
      });
    },
    epochEnd(record: EpochRecord) {
      if (record.testAccuracy !== undefined) acc = `${(record.testAccuracy * 100).toFixed(2)}%`;
      bar.update({ acc });
    },
    end() {
      bar.stop();
    },
  };
}
