import { ordered, peakRate, rate, steps } from './args.js';
import { defineSchedule } from './define.js';
import type { Schedule } from './schedule.js';

/** Options of {@link sgdr}. */
export interface SgdrOptions {
  /** Rate at the start of every cycle (η_max). */
  readonly lrMax: number;
  /** Rate the cosine approaches at the end of a cycle (η_min, default 0). */
  readonly lrMin?: number;
  /** Length of the first cycle in updates (T_0 ≥ 1). */
  readonly firstCycleSteps: number;
  /** Each cycle is `tMult` times longer than the previous one (integer ≥ 1, default 1). */
  readonly tMult?: number;
}

/**
 * SGDR, cosine annealing with warm restarts (Loshchilov & Hutter 2017; PyTorch
 * `CosineAnnealingWarmRestarts`): in a cycle of length `T_i = T_0 · tMult^i`, at position `T_cur`
 * (0 at the restart), `η = η_min + (η_max − η_min)(1 + cos(π · T_cur / T_i))/2`. Collects after the
 * last update of every cycle. Runs forever; `cycleSteps` is set only when `tMult = 1`.
 */
export function sgdr(options: SgdrOptions): Schedule {
  const b = 'sgdr';
  const lrMax = peakRate(b, 'lrMax', options.lrMax);
  const lrMin = rate(b, 'lrMin', options.lrMin ?? 0);
  ordered(b, 'lrMin', lrMin, 'lrMax', lrMax);
  const t0 = steps(b, 'firstCycleSteps', options.firstCycleSteps);
  const tMult = steps(b, 'tMult', options.tMult ?? 1);
  // Position in the cycle: an integer walk, so cycle boundaries never suffer from log rounding.
  const locate = (step: number): { tCur: number; ti: number } => {
    if (tMult === 1) return { tCur: step % t0, ti: t0 };
    let start = 0;
    let ti = t0;
    while (start + ti <= step) {
      start += ti;
      ti *= tMult;
    }
    return { tCur: step - start, ti };
  };
  return defineSchedule({
    name: `sgdr(lrMax=${lrMax}, lrMin=${lrMin}, T0=${t0}, tMult=${tMult})`,
    ...(tMult === 1 ? { cycleSteps: t0 } : {}),
    lrAt: (step) => {
      const { tCur, ti } = locate(step);
      return lrMin + ((lrMax - lrMin) * (1 + Math.cos((Math.PI * tCur) / ti))) / 2;
    },
    collectsAt: (step) => {
      const { tCur, ti } = locate(step);
      return tCur === ti - 1;
    },
  });
}
