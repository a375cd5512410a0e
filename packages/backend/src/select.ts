import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, OnerunError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, type BackendUnavailableReason } from './errors.js';
import {
  BUILD_NATIVE_COMMAND,
  entryOf,
  findNativePackage,
  isAddonBuilt,
  NATIVE_PACKAGES,
  type NativePackageName,
} from './native/packages.js';
import { type FusedTrainingRegistration, registerFusedTraining } from './training/register.js';
import { applyNativeThreads, loadedNativeThreads, type NativeThreads } from './training/threads.js';
import { registerWasmTrainingKernels, type WasmKernelRegistration } from './wasm/register.js';

/** The backends `selectBackend` knows, fastest first. */
export const BACKEND_CANDIDATES = [
  { backend: 'tensorflow-gpu', package: '@tensorflow/tfjs-node-gpu', tfjsName: 'tensorflow' },
  { backend: 'tensorflow', package: '@tensorflow/tfjs-node', tfjsName: 'tensorflow' },
  { backend: 'wasm', package: '@tensorflow/tfjs-backend-wasm', tfjsName: 'wasm' },
  { backend: 'cpu', package: '@tensorflow/tfjs-backend-cpu', tfjsName: 'cpu' },
] as const;

/** A backend `selectBackend` can pick. */
export type BackendName = (typeof BACKEND_CANDIDATES)[number]['backend'];

/** What to ask `selectBackend` for: the fastest one present, or exactly one. */
export type BackendPreference = 'auto' | BackendName;

/** A better backend that was passed over, and why. */
export interface SkippedBackend {
  backend: BackendName;
  package: string;
  reason: BackendUnavailableReason;
  /** For people: what went wrong, with the loader's own message where there is one. */
  detail: string;
}

/** The outcome of {@link selectBackend}. */
export interface BackendSelection {
  /** The backend chosen, in `selectBackend`'s terms (`'tensorflow-gpu'` for tfjs-node-gpu on a GPU). */
  backend: BackendName;
  /** The name tfjs knows it by (`tf.getBackend()`): `'tensorflow'`, `'wasm'` or `'cpu'`. */
  tfjsBackend: string;
  /** The package that provides it. */
  package: string;
  /** Every better backend that was tried first, with the reason it was not used. */
  skipped: SkippedBackend[];
  /** On wasm: the training kernels registered by this package (see `registerWasmTrainingKernels`). */
  wasmKernels?: WasmKernelRegistration;
  /**
   * On the native backend and on wasm: the fused training kernels registered (see
   * `registerFusedTraining`; turned off per path with `setFusedTraining` or
   * `ONERUN_FUSED_TRAINING`).
   */
  fusedTraining?: FusedTrainingRegistration;
  /** On the native backends: TensorFlow's thread pools, as set before the library loaded. */
  nativeThreads?: NativeThreads;
  /** On the native backends: the version of the TensorFlow library loaded (`TF_Version()`). */
  tensorflowVersion?: string;
  /**
   * Threads the backend computes with: TensorFlow's intra-op pool (`TF_NUM_INTRAOP_THREADS`,
   * else one per core) on the native backends; 1 on wasm (single-threaded under Node) and cpu.
   */
  threads: number;
  /** One line for logs: the choice and why each better one was skipped. */
  summary: string;
}

/**
 * Loads a module by name, as `import(specifier)` does. Replaceable for tests (and bundlers);
 * it must reject with a Node-style `code: 'ERR_MODULE_NOT_FOUND' | 'MODULE_NOT_FOUND'` error
 * naming the specifier when the package is not installed.
 */
export type ModuleLoader = (specifier: string) => Promise<unknown>;

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /**
   * The application's folder: the native packages (`@tensorflow/tfjs-node(-gpu)`) are resolved
   * from here, as the application itself would import them (default: the working directory).
   */
  resolveFrom?: string;
  /**
   * Internal / testing: how packages are loaded (default: dynamic `import`). Tests use it to
   * simulate a backend package that is not installed or fails to load.
   */
  loader?: ModuleLoader;
  /** Register the wasm training kernels when wasm is chosen (default true). */
  registerWasmKernels?: boolean;
  /**
   * Register the fused training kernels when the native CPU backend or wasm is chosen (default
   * true; see `registerFusedTraining`).
   */
  registerFusedTraining?: boolean;
  /**
   * Register the fused training kernels even on a tfjs other than the tested 4.22.x (see
   * `registerFusedTraining`); otherwise that is an `UntestedTfjsVersionError`.
   */
  allowUntestedTfjs?: boolean;
  /**
   * TensorFlow's intra-op and inter-op thread pools for the native backends, applied before the
   * library loads (default: `TF_NUM_INTRAOP_THREADS` / `TF_NUM_INTEROP_THREADS` when set, else
   * see `defaultNativeThreads`). No effect once TensorFlow is loaded in the process.
   */
  nativeThreads?: Partial<NativeThreads>;
}

/**
 * Imports the native packages from the application's folder (they are the application's
 * dependencies, not this package's) and the others from here (they are this package's own).
 * A variable specifier keeps bundlers and TypeScript from resolving the optional peers at build
 * time: they are looked up only when selectBackend runs.
 */
function loaderFrom(folder: string): ModuleLoader {
  return (specifier) => {
    if (!(specifier in NATIVE_PACKAGES)) return import(specifier);
    const pkg = findNativePackage(specifier as NativePackageName, folder);
    if (pkg === undefined) {
      const error = new Error(`Cannot find package '${specifier}' from ${folder}`);
      return Promise.reject(Object.assign(error, { code: 'ERR_MODULE_NOT_FOUND' }));
    }
    return import(pathToFileURL(entryOf(pkg)).href);
  };
}

type Candidate = (typeof BACKEND_CANDIDATES)[number];

/** Why one candidate cannot be used; caught by `selectBackend` and reported (never escapes). */
class Unavailable extends OnerunError {
  constructor(
    readonly reason: BackendUnavailableReason,
    readonly detail: string,
    readonly original?: unknown,
  ) {
    super('BACKEND_CANDIDATE_UNAVAILABLE', detail);
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.message;
  return String(error);
}

function isNotInstalled(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = messageOf(error);
  const notFound =
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    // Bundlers and vite-node word it their own way, without a code.
    /Cannot find (module|package)|Could not resolve|Failed to resolve/i.test(message);
  // Only the package itself missing counts; a missing file or dependency inside it is a failed load.
  return notFound && new RegExp(`['"\`]${specifier.replace(/[/.-]/g, '\\$&')}['"\`]`).test(message);
}

/** Runs `setBackend`, capturing what tfjs logs when a backend fails to initialise. */
async function activate(name: string): Promise<void> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
  };
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } finally {
    console.warn = warn;
  }
  if (!ok) {
    const why = warnings.filter((w) => !/^Initialization of backend/.test(w)).join(' / ');
    throw new Unavailable(
      'init-failed',
      `the '${name}' backend failed to initialise${why ? `: ${why.split('\n')[0]}` : ''}`,
    );
  }
  await tf.ready();
}

/** Rejects a native package that is installed but has no addon, before importing it. */
function requireBuiltAddon(c: Candidate, folder: string): void {
  if (!(c.package in NATIVE_PACKAGES)) return;
  const pkg = findNativePackage(c.package as NativePackageName, folder);
  if (pkg !== undefined && !isAddonBuilt(pkg)) {
    throw new Unavailable(
      'not-built',
      `${c.package} is installed but its native addon is not built (no ${pkg.bindingPath}); run \`${BUILD_NATIVE_COMMAND}\` in ${folder}`,
    );
  }
}

async function tryCandidate(
  c: Candidate,
  loader: ModuleLoader,
  folder: string,
  loadedGpuPackage: { value: boolean },
): Promise<void> {
  const alreadyRegistered = tf.findBackendFactory(c.tfjsName) !== null;
  const reuseGpuPackage = c.backend === 'tensorflow' && loadedGpuPackage.value && alreadyRegistered;
  if (!reuseGpuPackage) {
    requireBuiltAddon(c, folder);
    try {
      await loader(c.package);
    } catch (error) {
      if (isNotInstalled(error, c.package)) {
        throw new Unavailable('not-installed', `${c.package} is not installed`, error);
      }
      throw new Unavailable(
        'load-failed',
        `${c.package} failed to load: ${messageOf(error)}`,
        error,
      );
    }
    if (c.backend === 'tensorflow-gpu') loadedGpuPackage.value = true;
  }
  if (tf.findBackendFactory(c.tfjsName) === null) {
    throw new Unavailable(
      'load-failed',
      `${c.package} loaded but registered no '${c.tfjsName}' backend (is a second copy of tfjs-core in use?)`,
    );
  }
  await activate(c.tfjsName);
  if (c.backend === 'tensorflow-gpu') {
    const usingGpu = (tf.backend() as { isUsingGpuDevice?: unknown }).isUsingGpuDevice;
    if (usingGpu !== true) {
      throw new Unavailable(
        'no-gpu',
        `${c.package} loaded, but TensorFlow found no usable GPU (it would run on the CPU)`,
      );
    }
  }
}

function summarize(chosen: Candidate, skipped: SkippedBackend[]): string {
  const head = `Using tfjs backend '${chosen.backend}' (${chosen.package}).`;
  if (skipped.length === 0) return head;
  return `${head} Skipped: ${skipped.map((s) => `${s.backend}: ${s.detail}`).join('; ')}.`;
}

/**
 * Picks the fastest TensorFlow.js backend present and makes it the active one (`tf.setBackend`).
 * With `'auto'` it tries, in order, `@tensorflow/tfjs-node-gpu` (used only when TensorFlow sees a
 * GPU), `@tensorflow/tfjs-node`, `@tensorflow/tfjs-backend-wasm` and `@tensorflow/tfjs-backend-cpu`,
 * loading each with a dynamic import, so the native packages are optional: install one and it is
 * picked up with no code change. The native packages are resolved from the application's folder
 * (`options.resolveFrom`, default the working directory). The result says which one won and why
 * each better one was skipped (not installed, installed but its addon not built — with the
 * command that builds it —, failed to load — with the loader's message —, failed to initialise,
 * no GPU). When wasm is chosen, the training kernels of `registerWasmTrainingKernels` are
 * registered too.
 *
 * With an explicit preference only that backend is tried; if it cannot be used the promise
 * rejects with a {@link BackendUnavailableError} naming the reason.
 */
export async function selectBackend(
  preference: BackendPreference = 'auto',
  options: SelectBackendOptions = {},
): Promise<BackendSelection> {
  const folder = resolve(options.resolveFrom ?? process.cwd());
  const loader = options.loader ?? loaderFrom(folder);
  const candidates =
    preference === 'auto'
      ? [...BACKEND_CANDIDATES]
      : BACKEND_CANDIDATES.filter((c) => c.backend === preference);
  if (candidates.length === 0) {
    throw new InvalidArgumentError(
      'preference',
      preference,
      `'auto' or one of ${BACKEND_CANDIDATES.map((c) => `'${c.backend}'`).join(', ')}`,
    );
  }
  const skipped: SkippedBackend[] = [];
  const loadedGpuPackage = { value: false };
  let nativeThreads: NativeThreads | undefined;
  if (candidates.some((c) => c.tfjsName === 'tensorflow')) {
    // TensorFlow reads the variables once, when it loads: once loaded, report what it read.
    const loaded = tf.findBackendFactory('tensorflow') !== null;
    nativeThreads = loaded ? loadedNativeThreads() : applyNativeThreads(options.nativeThreads);
  }
  for (const c of candidates) {
    try {
      await tryCandidate(c, loader, folder, loadedGpuPackage);
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      if (preference !== 'auto') {
        throw new BackendUnavailableError(c.backend, c.package, error.reason, error.detail, {
          cause: error.original ?? error,
        });
      }
      skipped.push({
        backend: c.backend,
        package: c.package,
        reason: error.reason,
        detail: error.detail,
      });
      continue;
    }
    const fusedOptions = { allowUntestedTfjs: options.allowUntestedTfjs === true };
    const selection: BackendSelection = {
      backend: c.backend,
      tfjsBackend: tf.getBackend(),
      package: reusedPackage(c, loadedGpuPackage.value),
      skipped,
      threads: 1,
      summary: '',
    };
    if (c.tfjsName === 'tensorflow') {
      const version = tensorflowVersion();
      if (version !== undefined) selection.tensorflowVersion = version;
      selection.threads = nativeThreads?.intraOp ?? availableParallelism();
      if (nativeThreads !== undefined) selection.nativeThreads = nativeThreads;
      if (c.backend === 'tensorflow' && options.registerFusedTraining !== false) {
        selection.fusedTraining = registerFusedTraining('tensorflow', fusedOptions);
      }
    }
    if (c.backend === 'wasm' && options.registerWasmKernels !== false) {
      selection.wasmKernels = registerWasmTrainingKernels();
    }
    if (c.backend === 'wasm' && options.registerFusedTraining !== false) {
      selection.fusedTraining = registerFusedTraining('wasm', fusedOptions);
    }
    selection.summary = summarize(c, skipped);
    return selection;
  }
  // Unreachable in 'auto' unless even the cpu backend failed to load.
  throw new BackendUnavailableError(
    'cpu',
    '@tensorflow/tfjs-backend-cpu',
    skipped.at(-1)?.reason ?? 'load-failed',
    `no backend could be used: ${skipped.map((s) => `${s.backend}: ${s.detail}`).join('; ')}`,
  );
}

/** `TF_Version()` of the loaded library, from tfjs-node's binding (not part of its typings). */
function tensorflowVersion(): string | undefined {
  const binding = (tf.backend() as { binding?: { TF_Version?: unknown } }).binding;
  return typeof binding?.TF_Version === 'string' ? binding.TF_Version : undefined;
}

function reusedPackage(c: Candidate, gpuPackageLoaded: boolean): string {
  // tfjs-node-gpu without a GPU still registers the native 'tensorflow' backend (on the CPU).
  if (c.backend === 'tensorflow' && gpuPackageLoaded) return '@tensorflow/tfjs-node-gpu';
  return c.package;
}
