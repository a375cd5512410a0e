// Reads the finished jobs of the study (docs/study/jobs.mjs) from the runs folder into flat rows:
// one per scored model, as docs/results.json holds them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { studyJobs } from './jobs.mjs';

const read = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** `mlp-b30-s10-core` → its parts. */
export function parseJobName(name) {
  const m = /^(mlp|cnn)-b(\d+)-s(\d+)-(.+)$/.exec(name);
  if (!m) throw new Error(`not a study job name: ${name}`);
  return { model: m[1], budget: Number(m[2]), seed: Number(m[3]), what: m[4] };
}

const SETTING_OF = {
  core: 'primary',
  swa: 'primary',
  deep: 'primary',
  'sse-lr0.2': 'sse-lr0.2',
  'fge-2epoch': 'fge-2epoch',
  'swa-epoch': 'swa-every-epoch',
  'swa-lr0.05': 'swa-lr0.05',
};

/** The flat rows, the curves and the job records of every finished job under `runs`. */
export function collect(runs) {
  const rows = [];
  const curves = [];
  const jobs = [];
  for (const job of studyJobs()) {
    const donePath = join(runs, `${job.name}.done.json`);
    if (!existsSync(donePath)) continue;
    const done = read(donePath);
    const { model, budget, seed, what } = parseJobName(job.name);
    const setting = SETTING_OF[what];
    const base = {
      arm: model === 'mlp' ? 'primary' : 'secondary',
      model,
      trainExamples: 10_000,
      budget,
      seed,
      setting,
    };
    const row = (method, variant, members, metrics, extra = {}) =>
      rows.push({
        ...base,
        method,
        variant,
        members,
        testError: 1 - metrics.accuracy,
        nll: metrics.nll,
        ece: metrics.ece,
        brier: metrics.brier,
        ...extra,
      });
    const output = read(join(runs, `${job.name}.json`));
    const record = {
      name: job.name,
      command: done.command,
      commit: done.commit,
      seconds: done.seconds,
    };
    if (job.command[0] === 'eval') {
      row('deep-ensemble', 'ensemble', output.runs.members.length, output.runs.ensemble, {
        memberSeeds: output.runs.members.map((m) => m.seed),
      });
      jobs.push(record);
      continue;
    }
    record.backend = output.backend;
    const dir = join(runs, job.name);
    const methodDir = (m) => join(dir, m);
    const metricsOf = (m) => read(join(methodDir(m), 'metrics.json'));
    const secondsOf = (m) => read(join(methodDir(m), 'progress.json')).trainSeconds;
    record.trainSeconds = {};
    for (const { method } of output.rows) record.trainSeconds[method] = secondsOf(method);
    for (const { method } of output.rows) {
      const metrics = metricsOf(method);
      const extra = { trainSeconds: record.trainSeconds[method] };
      if (method === 'baseline') row('baseline', 'final', 1, metrics.result, extra);
      if (method === 'sse' || method === 'fge') {
        const M = metrics.models;
        row(method, 'ensemble', M, metrics.result, extra);
        const last = (k) => metrics.lastK.find((p) => p.k === k);
        row(method, 'last', 1, last(1));
        if (M >= 3) row(method, 'last-3', 3, last(3));
        for (const p of metrics.sizeCurve) row(method, `first-${p.k}`, p.k, p);
        if (metrics.start) row(method, 'start', 1, metrics.start);
      }
      if (method === 'swa') {
        // Trained to 1.5 budgets; the SWA model also saved after 1 and 1.25 budgets.
        const at = new Map((metrics.swa.atEpochs ?? []).map((a) => [a.epoch, a]));
        const one = at.get(budget);
        const quarter = at.get(Math.round(1.25 * budget));
        if (one) {
          row('swa', 'bn', one.averaged, one.result, extra);
          row('swa', 'stale-bn', one.averaged, one.staleBatchNorm);
          if (one.swag)
            row('swag', 'bma', one.swag.samples, one.swag.metrics, { rank: one.swag.rank });
        }
        if (quarter) {
          row('swa', 'budget-1.25', quarter.averaged, quarter.result);
          row('swa', 'stale-bn-1.25', quarter.averaged, quarter.staleBatchNorm);
        }
        row('swa', 'budget-1.5', metrics.models, metrics.result);
        row('swa', 'stale-bn-1.5', metrics.models, metrics.swa.staleBatchNorm);
        row('swa', 'sgd-1.5', 1, metrics.swa.sgd);
        if (metrics.swag) row('swag', 'bma-1.5', metrics.swag.samples, metrics.swag.metrics);
      }
    }
    if (output.curve) {
      const c = output.curve;
      const barrier = (p) => Math.max(...p.trainLoss) - (p.trainLoss[0] + p.trainLoss.at(-1)) / 2;
      curves.push({
        model,
        budget,
        seed,
        ends: c.ends,
        t: c.curve.t,
        curve: {
          trainLoss: c.curve.trainLoss,
          testError: c.curve.testError,
          barrier: barrier(c.curve),
        },
        line: {
          trainLoss: c.line.trainLoss,
          testError: c.line.testError,
          barrier: barrier(c.line),
        },
        appLossBarrier: { curve: c.curve.lossBarrier, line: c.line.lossBarrier },
        seconds: c.seconds,
      });
    }
    jobs.push(record);
  }
  return { rows, curves, jobs };
}

/** Reliability bins pooled over seeds (counts summed, confidence and accuracy count-weighted). */
export function pooledReliability(runs, model, budget, method) {
  const pooled = [];
  for (const job of studyJobs()) {
    const { model: m, budget: b, what } = parseJobName(job.name);
    if (m !== model || b !== budget || !existsSync(join(runs, `${job.name}.done.json`))) continue;
    const wanted = method === 'swa' ? what === 'swa' : what === 'core';
    if (!wanted) continue;
    const path = join(runs, job.name, method, 'metrics.json');
    if (!existsSync(path)) continue;
    for (const [i, bin] of read(path).reliability.entries()) {
      pooled[i] ??= { lower: bin.lower, upper: bin.upper, count: 0, confidence: 0, accuracy: 0 };
      pooled[i].count += bin.count;
      pooled[i].confidence += (bin.confidence ?? 0) * bin.count;
      pooled[i].accuracy += (bin.accuracy ?? 0) * bin.count;
    }
  }
  return pooled.map((b) => ({
    ...b,
    confidence: b.count ? b.confidence / b.count : null,
    accuracy: b.count ? b.accuracy / b.count : null,
  }));
}
