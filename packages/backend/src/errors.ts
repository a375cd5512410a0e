import { OnerunError } from '@onerun/core';

/** Why a backend could not be used. */
export type BackendUnavailableReason =
  | 'not-installed'
  | 'not-built'
  | 'load-failed'
  | 'init-failed'
  | 'no-gpu';

/**
 * The backend asked for explicitly (`selectBackend('tensorflow-gpu')`, …) cannot be used.
 * `reason` says why; `message` also carries the loader's own message where there is one.
 */
export class BackendUnavailableError extends OnerunError {
  readonly backend: string;
  readonly packageName: string;
  readonly reason: BackendUnavailableReason;

  constructor(
    backend: string,
    packageName: string,
    reason: BackendUnavailableReason,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'BACKEND_UNAVAILABLE',
      `Backend '${backend}' (${packageName}) is unavailable: ${detail}`,
      options,
    );
    this.backend = backend;
    this.packageName = packageName;
    this.reason = reason;
  }
}

/** The wasm training kernels were asked for before the wasm backend's own kernels were loaded. */
export class WasmNotLoadedError extends OnerunError {
  constructor() {
    super(
      'WASM_NOT_LOADED',
      "The wasm backend's kernels are not registered; expected `import '@tensorflow/tfjs-backend-wasm'` " +
        "(or selectBackend('wasm')) before registerWasmTrainingKernels().",
    );
  }
}
