export {
  BackendUnavailableError,
  type BackendUnavailableReason,
  UntestedTfjsVersionError,
  WasmNotLoadedError,
} from './errors.js';
export {
  type BuildNativeOptions,
  buildNative,
  type NativeBuildResult,
} from './native/build-native.js';
export { type NativeCheckResult, OP_TOLERANCE } from './native/check.js';
export {
  CommandFailedError,
  DiskSpaceError,
  MissingSymbolsError,
  NativeBuildError,
  NativeCheckFailedError,
  NativePackageNotFoundError,
  NodeHeadersMissingError,
  ToolMissingError,
  WheelUnavailableError,
} from './native/errors.js';
export {
  BUILD_NATIVE_COMMAND,
  findNativePackage,
  isAddonBuilt,
  NATIVE_PACKAGES,
  type NativePackage,
  type NativePackageName,
} from './native/packages.js';
export { DEFAULT_TENSORFLOW_VERSION } from './native/wheel.js';
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
export { categoricalCrossentropy } from './training/cross-entropy-loss.js';
export {
  FUSED_TRAINING_ENV,
  FUSED_TRAINING_PATHS,
  type FusedTrainingFlags,
  fusedTrainingFlags,
  parseFusedTraining,
  setFusedTraining,
} from './training/flags.js';
export { fusedTrainingInEffect } from './training/in-effect.js';
export {
  type FusedTrainingRegistration,
  type RegisterFusedTrainingOptions,
  registerFusedTraining,
} from './training/register.js';
export { TESTED_TFJS, type TfjsVersions } from './training/tfjs-version.js';
export {
  applyNativeThreads,
  defaultNativeThreads,
  type NativeThreads,
} from './training/threads.js';
export {
  type FusedTrainingUnregistration,
  unregisterFusedTraining,
} from './training/unregister.js';
export {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
  type WasmKernelRegistration,
} from './wasm/register.js';
