export { clip } from './clip.js';
export { constant } from './constant.js';
export { defineSchedule, type ScheduleSpec } from './define.js';
export { ScheduleEndedError, UnsupportedOptimizerError } from './errors.js';
export { type FgeTriangularOptions, fgeTriangular } from './fge-triangular.js';
export {
  getOptimizerLearningRate,
  type LearningRateSetter,
  registerLearningRateSetter,
  setOptimizerLearningRate,
} from './learning-rate.js';
export { type LinearWarmupOptions, linearWarmup } from './linear-warmup.js';
export { type SampleOptions, type SchedulePoint, sampleSchedule } from './sample.js';
export type { Schedule, ScheduleClock } from './schedule.js';
export {
  ScheduleCallback,
  type ScheduleCallbackOptions,
  scheduleCallback,
} from './schedule-callback.js';
export { compose, type ScheduleSegment, sequence } from './sequence.js';
export { type SgdrOptions, sgdr } from './sgdr.js';
export { type SseCosineOptions, type SseCosineSchedule, sseCosine } from './sse-cosine.js';
export { type SwaAnnealOptions, swaAnneal } from './swa-anneal.js';
export { type SwaCyclicOptions, swaCyclic } from './swa-cyclic.js';
export { type SwaDecayOptions, swaDecay } from './swa-decay.js';
export { updatesDone } from './updates-done.js';
