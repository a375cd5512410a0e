import type { ProgressSink } from '../training/loop.js';

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
