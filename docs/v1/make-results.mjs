// Builds the tables and plots of docs/v1/RESULTS.md from the comparison folders written by
// docs/v1/run-final.sh (default tmp/final/<model>-s<seed>/). Means ± sample standard deviations
// (n − 1) over seeds. Writes docs/v1/results.json, docs/v1/*.svg and prints Markdown tables.
//   node docs/v1/make-results.mjs [runsDir] [docsDir]
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const runs = process.argv[2] ?? 'tmp/final';
const docs = process.argv[3] ?? 'docs/v1';
const read = (path) => JSON.parse(readFileSync(path, 'utf8'));

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs) =>
  xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const pm = (xs, scale = 1, digits = 2) =>
  xs.length === 0 || xs.some((x) => x === undefined)
    ? '—'
    : `${(mean(xs) * scale).toFixed(digits)} ± ${(std(xs) * scale).toFixed(digits)}`;

/** One finished comparison: its settings, per-method metrics and progress. */
function loadCompare(dir) {
  const top = read(join(dir, 'metrics.json'));
  const method = (m) => ({
    metrics: read(join(dir, m, 'metrics.json')),
    progress: read(join(dir, m, 'progress.json')),
    config: read(join(dir, m, 'config.json')).config,
  });
  return {
    dir,
    top,
    baseline: method('baseline'),
    sse: method('sse'),
    fge: method('fge'),
    swa: method('swa'),
  };
}

const score = (m) => ({ err: 1 - m.accuracy, nll: m.nll, ece: m.ece });

/** The table rows of one comparison. */
function rowsOf(c) {
  const fgeCfg = c.fge.config;
  const pretrain = Math.round(fgeCfg.epochs * fgeCfg.pretrainFraction);
  // The FGE start model is the baseline run after `pretrain` epochs; its test loss and accuracy
  // were measured at that epoch (ECE was not).
  const start = c.fge.progress.history[pretrain - 1];
  const sum = (hs) => hs.reduce((a, h) => a + h.seconds, 0);
  return {
    'baseline SGD (final model)': {
      ...score(c.baseline.metrics.result),
      seconds: c.baseline.progress.trainSeconds,
    },
    'SSE last snapshot': score(c.sse.metrics.members.at(-1)),
    [`SSE ensemble`]: {
      ...score(c.sse.metrics.result),
      seconds: c.sse.progress.trainSeconds,
      models: c.sse.metrics.models,
    },
    'FGE start model (baseline at 80%)': {
      err: 1 - start.testAccuracy,
      nll: start.testLoss,
      ece: undefined,
    },
    'FGE ensemble': {
      ...score(c.fge.metrics.result),
      // The pretraining is the baseline's first 80%; this is the cost of the FGE phase alone.
      seconds: sum(c.fge.progress.history.slice(pretrain)),
      models: c.fge.metrics.models,
    },
    'SWA last SGD iterate': score(c.swa.metrics.swa.sgd),
    'SWA without BN recompute': score(c.swa.metrics.swa.staleBatchNorm),
    'SWA with BN recompute': {
      ...score(c.swa.metrics.result),
      seconds: c.swa.progress.trainSeconds,
      models: c.swa.metrics.swa.averaged,
    },
  };
}

const models = ['mlp', 'cnn', 'mlp-full'];
const out = { generated: new Date().toISOString(), configs: {} };
const md = [];
for (const model of models) {
  const dirs = existsSync(runs)
    ? readdirSync(runs)
        .filter((n) => n.startsWith(`${model}-s`) && existsSync(join(runs, n, 'metrics.json')))
        .sort()
    : [];
  if (dirs.length === 0) continue;
  const compares = dirs.map((d) => loadCompare(join(runs, d)));
  const rows = compares.map(rowsOf);
  const names = Object.keys(rows[0]);
  const s = compares[0].top.settings;
  md.push(
    `### ${model.toUpperCase()} — ${compares.length} seeds (${compares.map((c) => c.top.settings.seed).join(', ')}), budget ${s.budget} epochs, ${s.trainLimit ?? 60000} training examples, lr ${s.lr ?? 0.05}`,
    '',
    '| method | test error % | NLL | ECE % | models | train s (per run) |',
    '|---|---|---|---|---|---|',
  );
  const table = {};
  for (const name of names) {
    const col = (k) => rows.map((r) => r[name][k]);
    table[name] = {
      err: col('err'),
      nll: col('nll'),
      ece: col('ece'),
      seconds: col('seconds'),
      models: col('models'),
    };
    const models = col('models')[0];
    md.push(
      `| ${name} | ${pm(col('err'), 100)} | ${pm(col('nll'), 1, 3)} | ${pm(col('ece'), 100)} | ${models ?? (name.startsWith('SWA') ? '' : 1)} | ${col('seconds')[0] === undefined ? '' : pm(col('seconds'), 1, 0)} |`,
    );
  }
  md.push('');
  // Ensemble-size curves (ensemble of the first k members), mean over seeds.
  const size = {};
  for (const method of ['sse', 'fge']) {
    const curves = compares.map((c) => c[method].metrics.sizeCurve);
    const K = Math.min(...curves.map((c) => c.length));
    size[method] = Array.from({ length: K }, (_, i) => ({
      k: i + 1,
      err: curves.map((c) => 1 - c[i].accuracy),
      nll: curves.map((c) => c[i].nll),
    }));
    md.push(
      `${method.toUpperCase()} ensemble of the first k members (mean over seeds): ` +
        size[method]
          .map((p) => `k=${p.k}: ${(mean(p.err) * 100).toFixed(2)}% / ${mean(p.nll).toFixed(3)}`)
          .join('; '),
      '',
    );
  }
  // Statistical comparison per seed, paired (same seed index).
  const paired = (a, b, k) => rows.map((r) => r[a][k] - r[b][k]);
  const diffs = {
    'SSE ensemble − SSE last snapshot': ['SSE ensemble', 'SSE last snapshot'],
    'FGE ensemble − FGE start model': ['FGE ensemble', 'FGE start model (baseline at 80%)'],
    'SWA (BN) − baseline SGD': ['SWA with BN recompute', 'baseline SGD (final model)'],
    'SWA (BN) − SWA (stale BN)': ['SWA with BN recompute', 'SWA without BN recompute'],
    'SSE ensemble − baseline SGD': ['SSE ensemble', 'baseline SGD (final model)'],
    'FGE ensemble − baseline SGD': ['FGE ensemble', 'baseline SGD (final model)'],
  };
  md.push(
    '| paired difference (per seed) | test error (pp) | NLL | wins (error / NLL) |',
    '|---|---|---|---|',
  );
  const diffOut = {};
  for (const [label, [a, b]] of Object.entries(diffs)) {
    const e = paired(a, b, 'err');
    const n = paired(a, b, 'nll');
    diffOut[label] = { err: e, nll: n };
    md.push(
      `| ${label} | ${pm(e, 100)} | ${pm(n, 1, 3)} | ${e.filter((x) => x < 0).length}/${e.length} / ${n.filter((x) => x < 0).length}/${n.length} |`,
    );
  }
  md.push('');
  // Curve finding (seeds that ran it).
  const curves = compares.filter((c) => c.top.curve);
  const curveOut = curves.map((c) => {
    const cv = c.top.curve;
    const at = (p, key) => p[key][p.t.findIndex((t) => Math.abs(t - 0.5) < 1e-9)];
    return {
      seed: c.top.settings.seed,
      ends: cv.ends,
      t: cv.curve.t,
      curve: { trainLoss: cv.curve.trainLoss, testError: cv.curve.testError },
      line: { trainLoss: cv.line.trainLoss, testError: cv.line.testError },
      midCurveLoss: at(cv.curve, 'trainLoss'),
      midLineLoss: at(cv.line, 'trainLoss'),
      midCurveTestError: at(cv.curve, 'testError'),
      midLineTestError: at(cv.line, 'testError'),
      curveBarrier: cv.curve.lossBarrier,
      lineBarrier: cv.line.lossBarrier,
      endLoss: [cv.curve.trainLoss[0], cv.curve.trainLoss.at(-1)],
      seconds: cv.seconds,
    };
  });
  for (const cv of curveOut) {
    md.push(
      `Curve (seed ${cv.seed}, ${cv.ends.join(' ↔ ')}): training loss at t = 0.5 ${cv.midCurveLoss.toFixed(3)} on the Bezier curve vs ${cv.midLineLoss.toFixed(3)} on the straight line (ends ${cv.endLoss.map((x) => x.toFixed(3)).join(', ')}); barrier ${cv.curveBarrier.toFixed(3)} vs ${cv.lineBarrier.toFixed(3)}; test error at t = 0.5 ${(cv.midCurveTestError * 100).toFixed(2)}% vs ${(cv.midLineTestError * 100).toFixed(2)}%; ${cv.seconds.toFixed(0)} s.`,
      '',
    );
    writeFileSync(join(docs, `curve-${model}.svg`), curveSvg(model, cv));
    md.push(
      `![${model}: loss and test error along the curve and the line](curve-${model}.svg)`,
      '',
    );
  }
  writeFileSync(join(docs, `ensemble-size-${model}.svg`), sizeSvg(model, size));
  md.push(`![${model}: ensemble-size curves, mean over seeds](ensemble-size-${model}.svg)`, '');
  md.push(
    `Whole comparison wall time per seed: ${compares.map((c) => `${c.top.settings.seed}: ${c.top.seconds.toFixed(0)} s`).join(', ')}.`,
    '',
  );
  out.configs[model] = {
    settings: compares.map((c) => c.top.settings),
    backend: compares[0].top.backend,
    seconds: compares.map((c) => c.top.seconds),
    table,
    diffs: diffOut,
    size,
    curves: curveOut,
  };
}
// SWA at 1.5x the budget (docs/v1/run-final-swa15.sh), against the same seed's 10-epoch baseline.
for (const model of ['mlp', 'cnn']) {
  const names = existsSync(runs)
    ? readdirSync(runs)
        .filter(
          (n) => n.startsWith(`swa15-${model}-s`) && existsSync(join(runs, n, 'metrics.json')),
        )
        .sort()
    : [];
  const pairs = names
    .map((n) => ({ seed: n.slice(`swa15-${model}-s`.length), dir: join(runs, n) }))
    .filter((p) => existsSync(join(runs, `${model}-s${p.seed}`, 'metrics.json')));
  if (pairs.length === 0) continue;
  const rows = pairs.map((p) => {
    const swa = read(join(p.dir, 'metrics.json'));
    const c = loadCompare(join(runs, `${model}-s${p.seed}`));
    return {
      seed: p.seed,
      epochs: read(join(p.dir, 'config.json')).config.epochs,
      seconds: read(join(p.dir, 'progress.json')).trainSeconds,
      'baseline SGD, 10 epochs': score(c.baseline.metrics.result),
      'SWA 10 epochs, BN recomputed (from the comparison)': score(c.swa.metrics.result),
      'SWA 15 epochs, last SGD iterate': score(swa.swa.sgd),
      'SWA 15 epochs, without BN recompute': score(swa.swa.staleBatchNorm),
      'SWA 15 epochs, BN recomputed': { ...score(swa.result), models: swa.swa.averaged },
    };
  });
  md.push(
    `### SWA at 1.5× the budget — ${model.toUpperCase()}, ${rows.length} seeds (${rows.map((r) => r.seed).join(', ')}), ${rows[0].epochs} epochs`,
    '',
    '| model | test error % | NLL | ECE % | models averaged |',
    '|---|---|---|---|---|',
  );
  const keys = Object.keys(rows[0]).filter((k) => !['seed', 'epochs', 'seconds'].includes(k));
  for (const k of keys) {
    const col = (f) => rows.map((r) => r[k][f]);
    md.push(
      `| ${k} | ${pm(col('err'), 100)} | ${pm(col('nll'), 1, 3)} | ${pm(col('ece'), 100)} | ${rows[0][k].models ?? ''} |`,
    );
  }
  const base = 'baseline SGD, 10 epochs';
  const best = 'SWA 15 epochs, BN recomputed';
  const de = rows.map((r) => r[best].err - r[base].err);
  const dn = rows.map((r) => r[best].nll - r[base].nll);
  md.push(
    '',
    `Paired SWA (15 epochs, BN) − baseline (10 epochs): error ${pm(de, 100)} pp, NLL ${pm(dn, 1, 3)}; SWA lower on ${de.filter((x) => x < 0).length}/${de.length} seeds (error), ${dn.filter((x) => x < 0).length}/${dn.length} (NLL). Training time of the 15-epoch SWA run: ${pm(
      rows.map((r) => r.seconds),
      1,
      0,
    )} s.`,
    '',
  );
  out.configs[`swa15-${model}`] = rows;
}
writeFileSync(join(docs, 'results.json'), `${JSON.stringify(out, null, 1)}\n`);
console.log(md.join('\n'));
// Replace the generated block of RESULTS.md (between the markers) when it is there.
const resultsPath = join(docs, 'RESULTS.md');
if (existsSync(resultsPath)) {
  const text = readFileSync(resultsPath, 'utf8');
  const begin = '<!-- generated by docs/v1/make-results.mjs: begin -->';
  const end = '<!-- generated by docs/v1/make-results.mjs: end -->';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) {
    writeFileSync(
      resultsPath,
      `${text.slice(0, i + begin.length)}\n\n${md.join('\n')}\n${text.slice(j)}`,
    );
  }
}

// ---- plain SVG line charts (no dependencies) ----
function chart({ title, xLabel, yLabel, series, xs, width = 420, height = 260 }) {
  const m = { l: 56, r: 12, t: 28, b: 40 };
  const all = series.flatMap((s) => s.ys);
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  const pad = (hi - lo) * 0.08 || 0.01;
  lo -= pad;
  hi += pad;
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const X = (x) => m.l + ((x - x0) / (x1 - x0 || 1)) * (width - m.l - m.r);
  const Y = (y) => height - m.b - ((y - lo) / (hi - lo)) * (height - m.t - m.b);
  const ticks = 5;
  const parts = [
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13">${title}</text>`,
    `<line x1="${m.l}" y1="${height - m.b}" x2="${width - m.r}" y2="${height - m.b}" stroke="#444"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${height - m.b}" stroke="#444"/>`,
  ];
  for (let i = 0; i <= ticks; i++) {
    const y = lo + ((hi - lo) * i) / ticks;
    parts.push(
      `<text x="${m.l - 4}" y="${Y(y) + 4}" text-anchor="end" font-size="10">${y.toPrecision(3)}</text>`,
      `<line x1="${m.l}" y1="${Y(y)}" x2="${width - m.r}" y2="${Y(y)}" stroke="#eee"/>`,
    );
  }
  const xt = xs.length <= 12 ? xs : xs.filter((_, i) => i % Math.ceil(xs.length / 6) === 0);
  for (const x of xt)
    parts.push(
      `<text x="${X(x)}" y="${height - m.b + 14}" text-anchor="middle" font-size="10">${Number(x.toFixed(2))}</text>`,
    );
  parts.push(
    `<text x="${(m.l + width - m.r) / 2}" y="${height - 6}" text-anchor="middle" font-size="11">${xLabel}</text>`,
    `<text x="12" y="${(m.t + height - m.b) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${(m.t + height - m.b) / 2})">${yLabel}</text>`,
  );
  series.forEach((s, i) => {
    const sx = s.xs ?? xs;
    const pts = s.ys.map((y, j) => `${X(sx[j]).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ' stroke-dasharray="5,3"' : ''} points="${pts}"/>`,
    );
    for (const [j, y] of s.ys.entries())
      parts.push(
        `<circle cx="${X(sx[j]).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`,
      );
    parts.push(
      `<text x="${width - m.r - 4}" y="${m.t + 12 + 14 * i}" text-anchor="end" font-size="11" fill="${s.color}">${s.name}</text>`,
    );
  });
  return parts;
}

function svg(width, height, panels) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${panels.join('\n')}\n</svg>\n`;
}

function curveSvg(model, cv) {
  const left = chart({
    title: `${model.toUpperCase()}: training loss along the paths`,
    xLabel: 't',
    yLabel: 'train loss (nats)',
    xs: cv.t,
    series: [
      { name: 'Bezier curve', ys: cv.curve.trainLoss, color: '#1f77b4' },
      { name: 'straight line', ys: cv.line.trainLoss, color: '#d62728', dash: true },
    ],
  });
  const right = chart({
    title: `${model.toUpperCase()}: test error along the paths`,
    xLabel: 't',
    yLabel: 'test error',
    xs: cv.t,
    series: [
      { name: 'Bezier curve', ys: cv.curve.testError, color: '#1f77b4' },
      { name: 'straight line', ys: cv.line.testError, color: '#d62728', dash: true },
    ],
  });
  return svg(840, 260, [...left, `<g transform="translate(420,0)">`, ...right, '</g>']);
}

function sizeSvg(model, size) {
  const K = Math.max(...Object.values(size).map((s) => s.length));
  const xs = Array.from({ length: K }, (_, i) => i + 1);
  const line = (method, key, scale) => ({
    xs: size[method].map((p) => p.k),
    ys: size[method].map((p) => mean(p[key]) * scale),
  });
  const series = (key, scale) => [
    { name: 'SSE', ...line('sse', key, scale), color: '#1f77b4' },
    { name: 'FGE', ...line('fge', key, scale), color: '#2ca02c' },
  ];
  const left = chart({
    title: `${model.toUpperCase()}: test error of the first k`,
    xLabel: 'ensemble size k',
    yLabel: 'test error %',
    xs,
    series: series('err', 100),
  });
  const right = chart({
    title: `${model.toUpperCase()}: NLL of the first k`,
    xLabel: 'ensemble size k',
    yLabel: 'NLL (nats)',
    xs,
    series: series('nll', 1),
  });
  return svg(840, 260, [...left, `<g transform="translate(420,0)">`, ...right, '</g>']);
}
