/** The state of a study's jobs, for the progress line. */
export interface StudyCounts {
  total: number;
  done: number;
  running: number;
  failed: number;
  /** Seconds of the jobs finished by this process (the ETA's basis). */
  seconds: number[];
  workers: number;
}

const minutes = (s: number) =>
  s < 90
    ? `${Math.round(s)} s`
    : s < 5400
      ? `${Math.round(s / 60)} min`
      : `${(s / 3600).toFixed(1)} h`;

/**
 * `study: 4/12 done, 2 running, 6 left; ETA 9 min`. The ETA is the mean time of the jobs this
 * process finished times the jobs left, spread over the workers (unknown until one finishes).
 */
export function progressLine(c: StudyCounts): string {
  const left = c.total - c.done - c.running - c.failed;
  const parts = [`${c.done}/${c.total} done`, `${c.running} running`, `${left} left`];
  if (c.failed > 0) parts.push(`${c.failed} failed`);
  let eta = '';
  if (c.seconds.length > 0 && left + c.running > 0) {
    const mean = c.seconds.reduce((a, b) => a + b, 0) / c.seconds.length;
    eta = `; ETA ${minutes((mean * (left + c.running / 2)) / Math.max(1, c.workers))}`;
  } else if (left + c.running > 0) eta = '; ETA after the first job';
  return `study: ${parts.join(', ')}${eta}`;
}
