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

/**
 * `registerFusedTraining` was called with a tfjs other than the one its patches of tfjs internals
 * (tfjs-layers' `Dense`, `BatchNormalization` and `Model` methods, tfjs-core's `Relu` gradient)
 * were tested with. Opt out with `{ allowUntestedTfjs: true }`, or leave fused training off.
 */
export class UntestedTfjsVersionError extends OnerunError {
  readonly packageName: string;
  readonly version: string;
  readonly tested: string;

  constructor(packageName: string, version: string, tested: string) {
    super(
      'UNTESTED_TFJS_VERSION',
      `registerFusedTraining: ${packageName} is ${version}; expected ${tested}, the version whose ` +
        'internals the fused training paths patch and were tested with. Pass ' +
        '{ allowUntestedTfjs: true } to register anyway (selectBackend takes the same option), or ' +
        '{ registerFusedTraining: false } to selectBackend to leave them off.',
    );
    this.packageName = packageName;
    this.version = version;
    this.tested = tested;
  }
}
