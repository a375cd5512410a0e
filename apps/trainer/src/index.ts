// Programmatic API of the onerun reference app (the CLI `onerun` is built on it).
export { BACKEND_NAMES, chooseBackend } from './backend.js';
export { type Chart, renderSvg } from './charts.js';
export {
  type CurveCommandOptions,
  curveBetween,
  evalRun,
  parseEnd,
} from './commands.js';
export {
  type CompareCurveOptions,
  type CompareOptions,
  type CompareOutcome,
  type CompareRow,
  type CompareSettings,
  compare,
} from './compare.js';
export { methodConfig } from './compare-methods.js';
export {
  architectureOf,
  type BackendRecord,
  DEFAULT_CYCLES,
  METHOD_NAMES,
  type MethodName,
  parseMethodName,
  type RunConfig,
  type RunConfigInput,
  resolveConfig,
} from './config.js';
export { type CurveOptions, type CurveResult, findCurve, type PathResult } from './curve.js';
export {
  DATA_NAMES,
  type DataName,
  type LoadDataOptions,
  type LoadedData,
  loadData,
  parseDataName,
  type Split,
  type SyntheticOptions,
} from './data.js';
export { DataNotFoundError, IdxFormatError, RunFolderError, UsageError } from './errors.js';
export { evaluateMembers, type ModelScore, type RunMetrics } from './evaluate.js';
export { encodeIdx, type IdxArray, parseIdx, readIdxFile } from './idx.js';
export {
  DATA_DIR_ENV,
  type DataLocation,
  DEBIAN_DATA_DIRS,
  embeddedDataDir,
  locateData,
} from './locate.js';
export {
  buildCnn,
  buildMlp,
  buildModel,
  MODEL_NAMES,
  type ModelName,
  parseModelName,
} from './models.js';
export {
  type MethodPlan,
  type Phase,
  planMethod,
  standardSchedule,
  stepsPerEpoch,
} from './plan.js';
export type { CollectionPoint, EpochRecord, LossPoint, RunFile, RunProgress } from './records.js';
export { type ReportContent, renderReport, type Table, writeReport } from './report.js';
export { loadDataFor, type TrainIntoOptions, type TrainOutcome, trainInto } from './run.js';
export { RUN_LAYOUT, RunFolder } from './run-folder.js';
export {
  createModel,
  epochOrder,
  type ProgressSink,
  type RunStores,
  type TrainRunOptions,
  type TrainRunResult,
  trainRun,
} from './train.js';

/** The CLI's name. */
export const APP_NAME = 'onerun';
