export {
  BackendUnavailableError,
  type BackendUnavailableReason,
  WasmNotLoadedError,
} from './errors.js';
export {
  BACKEND_CANDIDATES,
  type BackendName,
  type BackendPreference,
  type BackendSelection,
  type ModuleLoader,
  type SelectBackendOptions,
  type SkippedBackend,
  selectBackend,
} from './select.js';
export {
  registerWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
  type WasmKernelRegistration,
} from './wasm/register.js';
