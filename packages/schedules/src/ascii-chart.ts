import { requireInteger } from '@onerun/core';
import { resolveSteps } from './sample.js';
import type { Schedule } from './schedule.js';

/** Options of {@link asciiChart}. */
export interface AsciiChartOptions {
  /** Steps to draw, `0 … steps−1`. Default: the schedule's `totalSteps` (required if infinite). */
  readonly steps?: number;
  /** Plot columns (default 72; fewer if there are fewer steps). */
  readonly width?: number;
  /** Plot rows (default 10). */
  readonly height?: number;
}

/**
 * A plain-text chart of a schedule for terminals and logs: `*` traces the rate (each column spans
 * the lowest to the highest rate of the steps it covers), `^` below the axis marks columns that
 * hold a collection step.
 */
export function asciiChart(schedule: Schedule, options: AsciiChartOptions = {}): string {
  const steps = resolveSteps(schedule, options.steps);
  const width = Math.min(requireInteger('width', options.width ?? 72, 1), steps);
  const height = requireInteger('height', options.height ?? 10, 2);
  const lo = new Array<number>(width).fill(Number.POSITIVE_INFINITY);
  const hi = new Array<number>(width).fill(Number.NEGATIVE_INFINITY);
  const marked = new Array<boolean>(width).fill(false);
  let top = 0;
  for (let s = 0; s < steps; s++) {
    const x = Math.floor((s * width) / steps);
    const lr = schedule.lrAt(s);
    lo[x] = Math.min(lo[x]!, lr);
    hi[x] = Math.max(hi[x]!, lr);
    if (schedule.collectsAt?.(s)) marked[x] = true;
    top = Math.max(top, lr);
  }
  const row = (v: number) => (top > 0 ? Math.round((v / top) * (height - 1)) : 0);
  const topLabel = formatRate(top);
  const pad = Math.max(topLabel.length, 1);
  const lines = [schedule.name];
  for (let r = height - 1; r >= 0; r--) {
    const label = r === height - 1 ? topLabel : r === 0 ? '0' : '';
    let line = `${label.padStart(pad)} |`;
    for (let x = 0; x < width; x++) line += row(lo[x]!) <= r && r <= row(hi[x]!) ? '*' : ' ';
    lines.push(line.trimEnd());
  }
  lines.push(`${' '.repeat(pad)} +${'-'.repeat(width)}`);
  if (marked.some(Boolean)) {
    lines.push(
      `${' '.repeat(pad)}  ${marked
        .map((m) => (m ? '^' : ' '))
        .join('')
        .trimEnd()}`,
    );
  }
  const last = String(steps - 1);
  lines.push(
    `${' '.repeat(pad)}  0${last.padStart(Math.max(width - 1, last.length))}  (step; ^ = collect)`,
  );
  return lines.join('\n');
}

function formatRate(v: number): string {
  return v === 0 ? '0' : Number(v.toPrecision(3)).toString();
}
