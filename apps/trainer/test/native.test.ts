import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { onerun } from './helpers.js';
import { pythonWithTensorboard, readEvents } from './tensorboard-reader.js';

// The native pass (`pnpm test:native`, after `pnpm native` has built tfjs-node's addon) sets
// ONERUN_TEST_BACKEND=tensorflow; without a built addon these runs could not use the native
// backend, so the ordinary pass leaves them out.
const nativePass = process.env.ONERUN_TEST_BACKEND === 'tensorflow';

const RUN = ['train', '--method', 'sse', '--cycles', '2', '--model', 'cnn', '--data', 'synthetic'];
const SEEDED = [...RUN, '--epochs', '2', '--seed', '7', '--quiet', '--json'];

async function weightsOf(dir: string, id: string): Promise<Float32Array> {
  const bytes = await readFile(join(dir, 'snapshots', id, 'weights.bin'));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

describe.runIf(nativePass)('onerun train on the native backend', () => {
  it("'auto' picks tfjs-node, and a seeded CNN run matches the wasm run to float tolerance", async () => {
    const root = await mkdtemp(join(tmpdir(), 'onerun-native-'));
    onTestFinished(() => rm(root, { recursive: true, force: true }));
    const nativeDir = join(root, 'native');
    const wasmDir = join(root, 'wasm');
    const native = await onerun([...SEEDED, '--backend', 'auto', '--out', nativeDir]);
    expect(native.code, native.stderr).toBe(0);
    const wasm = await onerun([...SEEDED, '--backend', 'wasm', '--out', wasmDir]);
    expect(wasm.code, wasm.stderr).toBe(0);

    const nativeOut = JSON.parse(native.stdout);
    expect(nativeOut.backend).toMatchObject({
      requested: 'auto',
      backend: 'tensorflow',
      package: '@tensorflow/tfjs-node',
    });
    expect(nativeOut.backend.tensorflowVersion).toMatch(/^2\.\d+\.\d+/);
    expect(nativeOut.backend.threads).toBeGreaterThanOrEqual(1);
    expect(nativeOut.backend.nativeThreads.intraOp).toBe(nativeOut.backend.threads);
    expect(nativeOut.backend.fusedTraining).toEqual([
      'batchNorm',
      'reluGrad',
      'dense',
      'crossEntropy',
    ]);
    expect(JSON.parse(wasm.stdout).backend.fusedTraining).toEqual(['dense', 'crossEntropy']);
    const config = JSON.parse(await readFile(join(nativeDir, 'config.json'), 'utf8'));
    expect(config.backend).toEqual(nativeOut.backend);
    const report = await readFile(join(nativeDir, 'report.html'), 'utf8');
    expect(report).toContain(`TensorFlow ${nativeOut.backend.tensorflowVersion}`);
    // TensorBoard event files on both backends (plain TypeScript, no tfjs-node writer), read by
    // TensorBoard itself where its Python package is installed (CI installs it).
    const python = await pythonWithTensorboard();
    if (!python && process.env.CI) throw new Error('CI needs Python with tensorboard');
    for (const dir of [nativeDir, wasmDir]) {
      const events = await readdir(join(dir, 'tensorboard', 'sse'));
      expect(events.some((name) => name.startsWith('events.out.tfevents.'))).toBe(true);
      if (!python) continue;
      const sse = (await readEvents(python, join(dir, 'tensorboard'))).sse!;
      for (const tag of ['train/loss', 'train/learning_rate', 'test/accuracy', 'ensemble/test_nll'])
        expect(sse[tag]?.length, `${dir} ${tag}`).toBeGreaterThan(0);
    }

    // Same seed, same data, same schedule: 8 SGD steps of the CNN (conv, BN, pooling) on two
    // independent implementations. Measured: weights within 7e-7, NLL within 1e-7.
    for (const id of ['snap-000001', 'snap-000002']) {
      const a = await weightsOf(nativeDir, id);
      const b = await weightsOf(wasmDir, id);
      expect(a.length).toBe(b.length);
      let worst = 0;
      for (let i = 0; i < b.length; i++) {
        worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
      }
      expect(worst, id).toBeLessThan(1e-5);
    }
    const nativeResult = nativeOut.metrics.result;
    const wasmResult = JSON.parse(wasm.stdout).metrics.result;
    expect(nativeResult.accuracy).toBe(wasmResult.accuracy);
    expect(nativeResult.nll).toBeCloseTo(wasmResult.nll, 5);
  });

  it("compare --jobs 2 gives each worker the model's pool, capped at cores / 2", async () => {
    const root = await mkdtemp(join(tmpdir(), 'onerun-native-jobs-'));
    onTestFinished(() => rm(root, { recursive: true, force: true }));
    const r = await onerun(
      [
        'compare',
        '--data',
        'synthetic',
        '--backend',
        'tensorflow',
        '--quiet',
        '--methods',
        'baseline,sse',
        '--budget',
        '2',
        '--cycles',
        '2',
        '--no-curve',
        '--jobs',
        '2',
        '--out',
        root,
        // This process's selectBackend wrote its own pool size there; the CLI must not inherit it.
      ],
      { TF_NUM_INTRAOP_THREADS: undefined },
    );
    expect(r.code, r.stderr).toBe(0);
    // The MLP is dense-bound: one thread, whatever cores / 2 is.
    for (const method of ['baseline', 'sse']) {
      const config = JSON.parse(await readFile(join(root, method, 'config.json'), 'utf8'));
      expect(config.backend.nativeThreads, method).toEqual({ intraOp: 1, interOp: 1 });
      expect(config.backend.threadsChosenBy, method).toBe('model');
    }
  });

  it('train picks one intra-op thread per core for the CNN; --threads overrides it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'onerun-native-threads-'));
    onTestFinished(() => rm(root, { recursive: true, force: true }));
    const run = (out: string, extra: string[]) =>
      onerun(
        [
          ...RUN,
          '--epochs',
          '2',
          '--backend',
          'tensorflow',
          '--quiet',
          '--json',
          '--out',
          out,
          ...extra,
        ],
        { TF_NUM_INTRAOP_THREADS: undefined },
      );
    const byModel = await run(join(root, 'model'), []);
    expect(byModel.code, byModel.stderr).toBe(0);
    expect(JSON.parse(byModel.stdout).backend).toMatchObject({
      nativeThreads: { intraOp: availableParallelism(), interOp: 1 },
      threadsChosenBy: 'model',
    });
    const byFlag = await run(join(root, 'flag'), ['--threads', '1']);
    expect(byFlag.code, byFlag.stderr).toBe(0);
    expect(JSON.parse(byFlag.stdout).backend).toMatchObject({
      threads: 1,
      nativeThreads: { intraOp: 1, interOp: 1 },
      threadsChosenBy: 'flag',
    });
  });
});
