// A worker process of `onerun compare --jobs N`: trains one chain of methods into their run
// folders, on the backend the parent chose, and reports progress over IPC.

import { OnerunError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { chooseBackend } from '../backend.js';
import type { MethodName } from '../training/config.js';
import type { ProgressSink } from '../training/loop.js';
import { planMethod } from '../training/plan.js';
import type { JobMessage, JobRequest } from './compare-jobs.js';
import { methodConfig, trainMethods } from './compare-methods.js';
import { loadDataFor } from './train.js';

tf.env().set('PROD', true);

const send = (message: JobMessage) => process.send?.(message);

/** Forwards a method's progress; batch updates at most every 250 ms. */
function forward(method: string): ProgressSink {
  let last = 0;
  return {
    begin: (info) => send({ type: 'begin', method, info }),
    update: (info) => {
      const now = performance.now();
      if (now - last < 250) return;
      last = now;
      send({ type: 'update', method, info });
    },
    epochEnd: (record) => send({ type: 'epochEnd', method, record }),
    end: () => send({ type: 'end', method }),
  };
}

async function run(request: JobRequest): Promise<void> {
  // What this process runs on (its thread pools may differ from the parent's: see workerEnv),
  // recorded in its methods' run folders.
  const given = request.backend.threadsChosenBy;
  const chosen = await chooseBackend(request.backend.backend, {
    ...(process.env.TF_NUM_INTRAOP_THREADS !== undefined && given !== undefined
      ? { threads: Number(process.env.TF_NUM_INTRAOP_THREADS), threadsSource: given }
      : {}),
  });
  const backend = { ...chosen, requested: request.backend.requested };
  const configs = request.methods.map((m) => methodConfig(request.settings, m));
  const data = await loadDataFor(configs[0]!);
  try {
    const plans = new Map(
      request.settings.methods.map((m) => [
        m,
        planMethod(methodConfig(request.settings, m), data.train.size),
      ]),
    ) as Map<MethodName, ReturnType<typeof planMethod>>;
    await trainMethods(
      {
        settings: request.settings,
        dir: request.dir,
        backend,
        plans,
        data,
        progress: forward,
        log: (line) => send({ type: 'log', line }),
      },
      request.methods,
    );
  } finally {
    data.dispose();
  }
}

const finish = (message: JobMessage, code: number) =>
  process.send?.(message, undefined, {}, () => process.exit(code));

// The parent gone (killed): stop; the run folders resume on the next compare.
process.on('disconnect', () => process.exit(1));
process.once('message', (request: JobRequest) => {
  run(request).then(
    () => finish({ type: 'done' }, 0),
    (error: unknown) =>
      finish(
        {
          type: 'error',
          code: error instanceof OnerunError ? error.code : 'INTERNAL',
          message: error instanceof Error ? error.message : String(error),
        },
        1,
      ),
  );
});
