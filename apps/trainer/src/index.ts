// What the app exposes to code outside it (bench/): enough to train the reference models in the
// app's own loop on the backend the CLI would pick. The CLI itself is `cli/main.ts`.
export { chooseBackend } from './backend.js';
export { encodePng } from './data/images.js';
export { FASHION_MNIST_CLASSES, type LoadedData, loadData } from './data/load.js';
export { embeddedDataDir } from './data/locate.js';
export {
  type BackendRecord,
  type RunConfig,
  type RunConfigInput,
  resolveConfig,
} from './training/config.js';
export {
  createModel,
  type TrainRunOptions,
  type TrainRunResult,
  trainRun,
} from './training/loop.js';
