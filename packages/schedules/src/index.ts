export type { Schedule } from './schedule.js';
