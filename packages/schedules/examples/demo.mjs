// Prints the SSE, FGE and SWA schedules as ASCII charts, collection points marked with ^.
// Runs against the built package: `pnpm --filter @onerun/schedules build` first.
import {
  asciiChart,
  fgeTriangular,
  sampleSchedule,
  sequence,
  sseCosine,
  swaDecay,
} from '@onerun/schedules';

// 40 epochs of 100 batches in every chart.
const stepsPerEpoch = 100;
const total = 40 * stepsPerEpoch;

// Snapshot Ensembles: M = 6 cosine cycles (T is not divisible by M: cycles of ⌈T/M⌉ = 667).
const sse = sseCosine({ lr0: 0.1, totalSteps: total, cycles: 6 });

// FGE: 32 epochs of a standard decay, then 8 epochs of 2-epoch triangular cycles.
const pretrain = swaDecay({
  lrInit: 0.05,
  swaLr: 0.01,
  swaStart: 32 * stepsPerEpoch,
  totalSteps: 32 * stepsPerEpoch,
});
const fge = sequence([
  { schedule: pretrain, steps: 32 * stepsPerEpoch, collect: false },
  {
    schedule: fgeTriangular({ lr1: 0.05, lr2: 0.01, cycleSteps: 2 * stepsPerEpoch }),
    steps: 8 * stepsPerEpoch,
  },
]);

// SWA: the official decay, averaging once per epoch from epoch 30.
const swa = swaDecay({
  lrInit: 0.1,
  swaLr: 0.02,
  swaStart: 30 * stepsPerEpoch,
  totalSteps: total,
  collectEvery: stepsPerEpoch,
});

for (const schedule of [sse, fge, swa]) {
  console.log(asciiChart(schedule, { width: 80, height: 10 }));
  const collected = sampleSchedule(schedule).filter((p) => p.collect);
  const list = collected.map((p) => p.step).join(', ');
  console.log(`  ${collected.length} collection points at steps: ${list}\n`);
}
