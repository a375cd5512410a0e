import { InvalidArgumentError } from '@onerun/core';
import { rate, steps } from './args.js';
import { defineSchedule } from './define.js';
import type { Schedule } from './schedule.js';

/** Options of {@link swaAnneal}. */
export interface SwaAnnealOptions {
  /** Rate at step 0 (PyTorch takes it from the optimizer when `SWALR` is built). */
  readonly lrInit: number;
  /** Rate reached after `annealSteps` updates and kept from then on. */
  readonly swaLr: number;
  /** Updates of the anneal (≥ 0; 0 jumps straight to `swaLr`). */
  readonly annealSteps: number;
  /** `'cos'` (default, as PyTorch) or `'linear'`. */
  readonly strategy?: 'cos' | 'linear';
}

/**
 * PyTorch's `SWALR`, in updates: `lr(step) = lrInit + (swaLr − lrInit) · a(min(1, step/N))` with
 * `a(t) = (1 − cos(π t))/2` for `'cos'` or `a(t) = t` for `'linear'`; `swaLr` from step N on.
 * (The closed form of SWALR's recursive update; `N = 0` gives `swaLr` at every step, as SWALR.)
 * Either direction is allowed. Runs forever; no collection points (the averager decides when).
 */
export function swaAnneal(options: SwaAnnealOptions): Schedule {
  const b = 'swaAnneal';
  const lrInit = rate(b, 'lrInit', options.lrInit);
  const swaLr = rate(b, 'swaLr', options.swaLr);
  const n = steps(b, 'annealSteps', options.annealSteps, 0);
  const strategy = options.strategy ?? 'cos';
  if (strategy !== 'cos' && strategy !== 'linear') {
    throw new InvalidArgumentError(`${b}: strategy`, strategy, "'cos' or 'linear'");
  }
  const anneal =
    strategy === 'cos' ? (t: number) => (1 - Math.cos(Math.PI * t)) / 2 : (t: number) => t;
  return defineSchedule({
    name: `swaAnneal(${lrInit} → ${swaLr}, ${strategy}, N=${n})`,
    lrAt: (step) => {
      if (n === 0) return swaLr;
      const t = Math.min(1, step / n);
      return t === 1 ? swaLr : lrInit + (swaLr - lrInit) * anneal(t);
    },
  });
}
