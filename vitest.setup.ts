import { fileURLToPath } from 'node:url';
import type { BackendPreference } from '@onerun/backend';
import * as tf from '@tensorflow/tfjs';

// tfjs's 'PROD' flag silences its console notices (the "install tfjs-node" banner that every test
// file would otherwise print) and nothing else. ('IS_TEST' would also silence them, but turns on
// tfjs's kernel leak self-check, which misfires inside tf.losses.softmaxCrossEntropy.)
tf.env().set('PROD', true);

// Every test starts on the pure-JS cpu backend: the reference implementation, present everywhere.
// Tests that exercise another backend switch explicitly and switch back.
// ONERUN_TEST_BACKEND names another starting backend for a second pass over the backend-sensitive
// tests (`pnpm test:native`: 'tensorflow', the addon `pnpm native` builds); it must load,
// or every test fails.
const backend = process.env.ONERUN_TEST_BACKEND ?? 'cpu';
if (backend === 'cpu') {
  await tf.setBackend('cpu');
} else {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const { selectBackend } = await import('@onerun/backend');
  const resolveFrom = fileURLToPath(new URL('apps/trainer/', import.meta.url));
  await selectBackend(backend as BackendPreference, { resolveFrom });
}
await tf.ready();
