import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError, WasmNotLoadedError } from './errors.js';
import { type ModuleLoader, selectBackend } from './select.js';
import {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
} from './wasm/register.js';

const realLoader: ModuleLoader = (specifier) => import(specifier);

function notInstalled(specifier: string): Error {
  return Object.assign(
    new Error(`Cannot find package '${specifier}' imported from /app/index.js`),
    {
      code: 'ERR_MODULE_NOT_FOUND',
    },
  );
}

/** A stand-in for tfjs-node(-gpu): importing it registers a 'tensorflow' backend. */
class FakeNativeBackend extends tf.KernelBackend {
  constructor(readonly isUsingGpuDevice: boolean) {
    super();
  }
  override dispose(): void {}
}

function fakeNative(gpu: boolean): () => Promise<unknown> {
  return async () => {
    tf.registerBackend('tensorflow', () => new FakeNativeBackend(gpu), 3);
    return {};
  };
}

function loaderWith(overrides: Record<string, () => Promise<unknown>>): ModuleLoader {
  return (specifier) => {
    const override = overrides[specifier];
    return override ? override() : realLoader(specifier);
  };
}

afterEach(async () => {
  await tf.setBackend('cpu');
  if (tf.findBackendFactory('tensorflow') !== null) tf.removeBackend('tensorflow');
});

describe('registerWasmTrainingKernels before the wasm backend is loaded', () => {
  it('throws a typed error that says to import the wasm backend first', () => {
    // Runs first in this file's fresh process: nothing has imported tfjs-backend-wasm yet.
    expect(() => registerWasmTrainingKernels()).toThrow(WasmNotLoadedError);
  });
});

describe('selectBackend', () => {
  it("'auto' on a machine without tfjs-node picks wasm and says why the native ones were skipped", async () => {
    const selection = await selectBackend('auto');
    expect(selection.backend).toBe('wasm');
    expect(selection.tfjsBackend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(selection.package).toBe('@tensorflow/tfjs-backend-wasm');
    expect(selection.skipped.map((s) => [s.backend, s.reason])).toEqual([
      ['tensorflow-gpu', 'not-installed'],
      ['tensorflow', 'not-installed'],
    ]);
    expect(selection.skipped[0]?.detail).toContain('@tensorflow/tfjs-node-gpu is not installed');
    expect(selection.summary).toMatch(/'wasm'.*tensorflow-gpu: .*not installed/);
    expect(selection.wasmKernels?.registered).toContain('Conv2DBackpropFilter');
    // Idempotent: a second registration installs nothing new.
    const again = registerWasmTrainingKernels();
    expect(again.registered).toEqual([]);
    expect(again.alreadyRegistered).toContain('Conv2DBackpropFilter');
  });

  it('unregisterWasmTrainingKernels puts back the stock wasm kernels it replaced', async () => {
    await selectBackend('wasm', { registerWasmKernels: false });
    unregisterWasmTrainingKernels(); // from the test above
    const stock = new Map(WASM_TRAINING_KERNELS.map((k) => [k, tf.getKernel(k, 'wasm')]));
    const registration = registerWasmTrainingKernels();
    expect(registration.replaced).toContain('BatchMatMul');
    expect(tf.getKernel('BatchMatMul', 'wasm')).not.toBe(stock.get('BatchMatMul'));
    expect(unregisterWasmTrainingKernels().sort()).toEqual([...registration.registered].sort());
    for (const [name, config] of stock) expect(tf.getKernel(name, 'wasm')).toBe(config);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(unregisterWasmTrainingKernels()).toEqual([]);
    registerWasmTrainingKernels();
  });

  it('reports a native package that fails to load with the loader message, then falls back', async () => {
    const loader = loaderWith({
      '@tensorflow/tfjs-node-gpu': () => Promise.reject(notInstalled('@tensorflow/tfjs-node-gpu')),
      '@tensorflow/tfjs-node': () =>
        Promise.reject(
          new Error('The Node.js native addon module (tfjs_binding.node) can not be found'),
        ),
    });
    const selection = await selectBackend('auto', { loader });
    expect(selection.backend).toBe('wasm');
    expect(selection.skipped[1]).toMatchObject({ backend: 'tensorflow', reason: 'load-failed' });
    expect(selection.skipped[1]?.detail).toContain('tfjs_binding.node) can not be found');
  });

  it('picks tfjs-node-gpu when TensorFlow sees a GPU', async () => {
    const loader = loaderWith({ '@tensorflow/tfjs-node-gpu': fakeNative(true) });
    const selection = await selectBackend('auto', { loader });
    expect(selection).toMatchObject({
      backend: 'tensorflow-gpu',
      tfjsBackend: 'tensorflow',
      package: '@tensorflow/tfjs-node-gpu',
      skipped: [],
    });
    expect(selection.wasmKernels).toBeUndefined();
  });

  it('skips tfjs-node-gpu without a GPU and keeps its native CPU backend', async () => {
    const loader = loaderWith({
      '@tensorflow/tfjs-node-gpu': fakeNative(false),
      '@tensorflow/tfjs-node': () =>
        Promise.reject(new Error('must not be loaded next to the GPU build')),
    });
    const selection = await selectBackend('auto', { loader });
    expect(selection.backend).toBe('tensorflow');
    expect(selection.package).toBe('@tensorflow/tfjs-node-gpu');
    expect(selection.skipped).toEqual([
      expect.objectContaining({ backend: 'tensorflow-gpu', reason: 'no-gpu' }),
    ]);
  });

  it('picks tfjs-node when only it is installed', async () => {
    const loader = loaderWith({
      '@tensorflow/tfjs-node-gpu': () => Promise.reject(notInstalled('@tensorflow/tfjs-node-gpu')),
      '@tensorflow/tfjs-node': fakeNative(false),
    });
    const selection = await selectBackend('auto', { loader });
    expect(selection).toMatchObject({ backend: 'tensorflow', package: '@tensorflow/tfjs-node' });
  });

  it('an explicit preference that cannot load rejects with a typed error naming the reason', async () => {
    const error = await selectBackend('tensorflow-gpu').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error).toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      backend: 'tensorflow-gpu',
      packageName: '@tensorflow/tfjs-node-gpu',
      reason: 'not-installed',
    });
    expect((error as Error).message).toContain('@tensorflow/tfjs-node-gpu is not installed');

    const loader = loaderWith({
      '@tensorflow/tfjs-node': () =>
        Promise.reject(new Error('libtensorflow.so.2: cannot open shared object file')),
    });
    await expect(selectBackend('tensorflow', { loader })).rejects.toThrow(
      /failed to load: libtensorflow\.so\.2: cannot open/,
    );
    const noGpu = await selectBackend('tensorflow-gpu', {
      loader: loaderWith({ '@tensorflow/tfjs-node-gpu': fakeNative(false) }),
    }).catch((e: unknown) => e);
    expect(noGpu).toMatchObject({ reason: 'no-gpu' });
    // A failed explicit request never falls back: the active backend is unchanged... except for
    // the no-GPU case, where the native package did load; the caller decides what to do.
  });

  it('an explicit wasm or cpu preference selects exactly that backend', async () => {
    expect(await selectBackend('cpu')).toMatchObject({ backend: 'cpu', skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
    expect(await selectBackend('wasm')).toMatchObject({ backend: 'wasm', skipped: [] });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an unknown preference', async () => {
    await expect(selectBackend('webgpu' as 'cpu')).rejects.toThrow(
      /Invalid preference: got "webgpu"/,
    );
  });
});
