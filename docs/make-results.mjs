// Results v2: every table and plot of docs/RESULTS.md from docs/results.json.
//
//   node docs/make-results.mjs                     # tables + plots from docs/results.json
//   node docs/make-results.mjs --collect tmp/study # first rebuild docs/results.json from the runs
//
// The runs come from docs/study/run-study.mjs. Verdicts follow the rules pre-registered in
// docs/RESULTS.md (docs/study/stats.mjs).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { collect, pooledReliability } from './study/collect.mjs';
import { CNN, MLP_SEEDS } from './study/jobs.mjs';
import { halfWidth, mean, paired, verdict } from './study/stats.mjs';
import { linePanel, reliabilityPanel, svgGrid } from './study/svg.mjs';

const DOCS = 'docs';
const RESULTS_JSON = join(DOCS, 'results.json');
const { values } = parseArgs({ options: { collect: { type: 'string' } } });

if (values.collect) {
  const { rows, curves, jobs } = collect(values.collect);
  const reliability = [];
  for (const [model, budget] of [
    ['mlp', 30],
    ['cnn', CNN.budget],
  ]) {
    for (const method of ['baseline', 'sse', 'fge', 'swa']) {
      const bins = pooledReliability(values.collect, model, budget, method);
      if (bins.length) reliability.push({ model, budget, method, bins });
    }
  }
  const backends = [...new Set(jobs.filter((j) => j.backend).map((j) => backendText(j.backend)))];
  writeFileSync(
    RESULTS_JSON,
    `${JSON.stringify(
      {
        study: 'docs/RESULTS.md (Results v2)',
        collected: new Date().toISOString(),
        commits: [...new Set(jobs.map((j) => j.commit))],
        node: process.version,
        tfjs: tfjsVersion(),
        backends,
        jobs,
        rows,
        curves,
        reliability,
      },
      null,
      1,
    )}\n`,
  );
}

const results = JSON.parse(readFileSync(RESULTS_JSON, 'utf8'));
const { rows, curves } = results;

/** The tfjs the app runs on (its `@tensorflow/tfjs-core`), as installed here. */
function tfjsVersion() {
  const require = createRequire(join(process.cwd(), 'apps', 'trainer', 'package.json'));
  return JSON.parse(readFileSync(require.resolve('@tensorflow/tfjs-core/package.json'), 'utf8'))
    .version;
}

function backendText(b) {
  const tf = b.tensorflowVersion ? `, TensorFlow ${b.tensorflowVersion}` : '';
  const threads = b.threads ? `, ${b.threads} thread${b.threads > 1 ? 's' : ''}` : '';
  return `${b.backend} (${b.package ?? 'tfjs'}${tf}${threads})`;
}

const METRIC = { error: 'testError', nll: 'nll', ece: 'ece', brier: 'brier' };
const UNIT = { error: 'pp', nll: 'nats', ece: '', brier: '' };
const SCALE = { error: 100, nll: 1, ece: 1, brier: 1 };

/** Rows matching `where` (model, budget, method, variant, setting default 'primary'), by seed. */
function bySeed(where) {
  const w = { setting: 'primary', ...where };
  const out = new Map();
  for (const r of rows) {
    if (Object.entries(w).every(([k, v]) => r[k] === v)) out.set(r.seed, r);
  }
  return out;
}

/** Paired differences `a − b` of `metric` over the seeds both have, in display units. */
function differences(a, b, metric) {
  const A = bySeed(a);
  const B = bySeed(b);
  const ds = [];
  for (const [seed, ra] of A) {
    const rb = B.get(seed);
    if (rb) ds.push((ra[METRIC[metric]] - rb[METRIC[metric]]) * SCALE[metric]);
  }
  return ds;
}

const f = (x, d = 2) => (Number.isFinite(x) ? (x >= 0 ? `+${x.toFixed(d)}` : x.toFixed(d)) : '—');
const ci = (s, d = 2) =>
  s.n < 2
    ? `${f(s.mean, d)} (n = ${s.n})`
    : `${f(s.mean, d)} [${f(s.ci95[0], d)}, ${f(s.ci95[1], d)}]`;

const mlp30 = { model: 'mlp', budget: 30 };
const cnn = { model: 'cnn', budget: CNN.budget };

// The pre-registered primary claims (docs/RESULTS.md, "Claims and their primary metrics").
const CLAIMS = [
  {
    id: 1,
    claim: 'SSE ensemble beats its own last snapshot',
    paper: 'DenseNet SSE: 3.4% error on CIFAR-10 (abstract); ensemble < every snapshot',
    a: { ...mlp30, method: 'sse', variant: 'ensemble' },
    b: { ...mlp30, method: 'sse', variant: 'last' },
    metric: 'error',
    test: 'superiority',
  },
  {
    id: 2,
    claim: 'SSE ensemble beats one SGD run of the same budget',
    paper: 'lower error than a single model trained at the same cost (Huang et al.)',
    a: { ...mlp30, method: 'sse', variant: 'ensemble' },
    b: { ...mlp30, method: 'baseline', variant: 'final' },
    metric: 'error',
    test: 'superiority',
  },
  {
    id: 4,
    claim: 'FGE ensemble beats an independent SGD model (1 budget)',
    paper: 'CIFAR-100 VGG16 72.5 → 74.6% acc (−2.1 pp error)',
    a: { ...mlp30, method: 'fge', variant: 'ensemble' },
    b: { ...mlp30, method: 'baseline', variant: 'final' },
    metric: 'error',
    test: 'equivalence',
  },
  {
    id: 5,
    claim: 'FGE lowers NLL against SGD',
    paper: 'FGE ensembles improve test NLL (Garipov et al.)',
    a: { ...mlp30, method: 'fge', variant: 'ensemble' },
    b: { ...mlp30, method: 'baseline', variant: 'final' },
    metric: 'nll',
    test: 'superiority',
  },
  {
    id: 6,
    claim: 'FGE ensemble beats the model it starts from',
    paper: 'ensemble of the cycle minima beats the pretrained start',
    a: { ...mlp30, method: 'fge', variant: 'ensemble' },
    b: { ...mlp30, method: 'fge', variant: 'start' },
    metric: 'error',
    test: 'superiority',
  },
  {
    id: 7,
    claim: 'SWA (1.5 budgets) beats SGD (1 budget)',
    paper: 'CIFAR-100 VGG16 72.55 → 74.27% (−1.7 pp); CIFAR-10 VGG16 93.25 → 93.64% (−0.39 pp)',
    a: { ...mlp30, method: 'swa', variant: 'budget-1.5' },
    b: { ...mlp30, method: 'baseline', variant: 'final' },
    metric: 'error',
    test: 'equivalence',
  },
  {
    id: 8,
    claim: 'SWA beats SGD at the same budget',
    paper: 'SWA reported at 1, 1.25 and 1.5 budgets, ahead of SGD (Izmailov et al.)',
    a: { ...mlp30, method: 'swa', variant: 'bn' },
    b: { ...mlp30, method: 'baseline', variant: 'final' },
    metric: 'error',
    test: 'equivalence',
  },
  {
    id: 9,
    claim: 'SWA needs the batch-norm recompute',
    paper: 'stale BN statistics do not fit the averaged weights (METHODS §4)',
    a: { ...mlp30, method: 'swa', variant: 'bn' },
    b: { ...mlp30, method: 'swa', variant: 'stale-bn' },
    metric: 'error',
    test: 'superiority',
  },
  {
    id: 10,
    claim: "SWAG's model average lowers NLL against SWA",
    paper: 'SWAG improves NLL over SWA (Maddox et al.)',
    a: { ...mlp30, method: 'swag', variant: 'bma' },
    b: { ...mlp30, method: 'swa', variant: 'bn' },
    metric: 'nll',
    test: 'superiority',
  },
  {
    id: 11,
    claim: 'a deep ensemble of 5 (5× the cost) beats FGE',
    paper: 'independent ensembles remain the upper bound at their cost (Garipov et al.)',
    a: { ...mlp30, method: 'deep-ensemble', variant: 'ensemble' },
    b: { ...mlp30, method: 'fge', variant: 'ensemble' },
    metric: 'error',
    test: 'superiority',
  },
  ...[
    [1, { method: 'sse', variant: 'ensemble' }, { method: 'sse', variant: 'last' }, 'superiority'],
    [
      2,
      { method: 'sse', variant: 'ensemble' },
      { method: 'baseline', variant: 'final' },
      'superiority',
    ],
    [
      4,
      { method: 'fge', variant: 'ensemble' },
      { method: 'baseline', variant: 'final' },
      'equivalence',
    ],
    [
      7,
      { method: 'swa', variant: 'budget-1.5' },
      { method: 'baseline', variant: 'final' },
      'equivalence',
    ],
  ].map(([of, a, b, test]) => ({
    id: `13.${of}`,
    claim: `CNN: claim ${of}`,
    paper: 'as claim ' + of,
    a: { ...cnn, ...a },
    b: { ...cnn, ...b },
    metric: 'error',
    test,
  })),
];

const DELTA = { error: 0.2, nll: 0 };

function claimRows() {
  const out = [];
  for (const c of CLAIMS) {
    const ds = differences(c.a, c.b, c.metric);
    const s = paired(ds);
    let v = verdict(s, c.test, DELTA[c.metric]);
    if (v.startsWith('does not hold: equivalent') && s.ci95[1] < 0)
      v += ' (a real gain, smaller than δ)';
    out.push({ ...c, stats: s, verdict: v });
  }
  // Claim 12: the barrier (max along the path − mean of the ends), curve − line, every seed.
  for (const model of ['mlp', 'cnn']) {
    const own = curves.filter((c) => c.model === model);
    const ds = own.map((c) => c.curve.barrier - c.line.barrier);
    const s = paired(ds);
    const v =
      s.n < 2
        ? verdict(s, 'superiority', 0)
        : s.ci95[1] < 0 && s.negative === s.n
          ? 'holds'
          : verdict(s, 'superiority', 0);
    out.push({
      id: `12.${model}`,
      claim: `${model.toUpperCase()}: a trained curve has a lower loss barrier than the line`,
      paper: 'near-constant loss along the curve; a barrier on the line',
      metric: 'barrier',
      test: 'superiority, every seed',
      stats: s,
      verdict: v,
    });
  }
  const key = (id) => String(id).replace('.mlp', '.0').replace('.cnn', '.1');
  return out.sort((x, y) => key(x.id).localeCompare(key(y.id), 'en', { numeric: true }));
}

function verdictTable(claims) {
  const lines = [
    '| # | claim | paper | ours: d = method − comparator, mean [95% CI] | seeds with d < 0 | verdict |',
    '| - | ----- | ----- | -------------------------------------------- | ---------------- | ------- |',
  ];
  for (const c of claims) {
    const unit = c.metric === 'barrier' ? 'nats' : UNIT[c.metric];
    const digits = c.metric === 'error' ? 2 : 3;
    lines.push(
      `| ${c.id} | ${c.claim} | ${c.paper} | ${ci(c.stats, digits)} ${unit} (${c.metric}) | ${c.stats.n ? `${c.stats.negative}/${c.stats.n}` : '—'} | **${c.verdict}** |`,
    );
  }
  return lines.join('\n');
}

// ---- secondary tables ----

const VARIANTS = [
  ['baseline', 'final', 'baseline (SGD)'],
  ['sse', 'ensemble', 'SSE, all 5'],
  ['sse', 'last-3', 'SSE, last 3'],
  ['sse', 'last', 'SSE, last snapshot'],
  ['fge', 'ensemble', 'FGE ensemble'],
  ['fge', 'start', 'FGE start model'],
  ['swa', 'bn', 'SWA, 1 budget'],
  ['swa', 'stale-bn', 'SWA, 1 budget, stale BN'],
  ['swa', 'budget-1.25', 'SWA, 1.25 budgets'],
  ['swa', 'budget-1.5', 'SWA, 1.5 budgets'],
  ['swag', 'bma', 'SWAG (30 samples), 1 budget'],
  ['deep-ensemble', 'ensemble', 'deep ensemble of 5 (5× cost)'],
];

function meanCell(values, scale, digits) {
  if (values.length === 0) return '—';
  const m = mean(values) * scale;
  if (values.length < 2) return m.toFixed(digits);
  const half = halfWidth(values) * scale;
  return `${m.toFixed(digits)} ± ${half.toFixed(digits)}`;
}

function metricsTable(model, budget, setting = 'primary') {
  const lines = [
    '| model | seeds | test error % | NLL | ECE | Brier | vs baseline: error pp | vs baseline: NLL |',
    '| ----- | ----- | ------------ | --- | --- | ----- | --------------------- | ---------------- |',
  ];
  const base = { model, budget, method: 'baseline', variant: 'final' };
  for (const [method, variant, label] of VARIANTS) {
    const sel = { model, budget, method, variant, setting };
    const got = [...bySeed(sel).values()];
    if (got.length === 0) continue;
    const col = (k) => got.map((r) => r[k]);
    const dErr = paired(differences(sel, base, 'error'));
    const dNll = paired(differences(sel, base, 'nll'));
    const vs = method === 'baseline' ? ['', ''] : [ci(dErr), ci(dNll, 3)];
    lines.push(
      `| ${label} | ${got.length} | ${meanCell(col('testError'), 100, 2)} | ${meanCell(col('nll'), 1, 3)} | ${meanCell(col('ece'), 1, 3)} | ${meanCell(col('brier'), 1, 3)} | ${vs[0]} | ${vs[1]} |`,
    );
  }
  return lines.join('\n');
}

function budgetTable() {
  const lines = [
    '| budget | SSE all 5 − last snapshot, error pp | SSE − baseline, error pp | FGE − baseline, error pp | SWA (1 budget) − baseline, error pp | SWA (1.5) − baseline, error pp |',
    '| ------ | ----------------------------------- | ------------------------ | ------------------------ | ----------------------------------- | ------------------------------ |',
  ];
  for (const budget of [10, 20, 30]) {
    const at = (method, variant) => ({ model: 'mlp', budget, method, variant });
    const base = at('baseline', 'final');
    const cell = (a, b) => {
      const s = paired(differences(a, b, 'error'));
      return s.n ? `${ci(s)} (${s.negative}/${s.n})` : '—';
    };
    lines.push(
      `| ${budget} | ${cell(at('sse', 'ensemble'), at('sse', 'last'))} | ${cell(at('sse', 'ensemble'), base)} | ${cell(at('fge', 'ensemble'), base)} | ${cell(at('swa', 'bn'), base)} | ${cell(at('swa', 'budget-1.5'), base)} |`,
    );
  }
  return lines.join('\n');
}

function secondSettingTable() {
  const lines = [
    '| setting (MLP, B = 30) | compared with (same seeds) | error pp, mean [95% CI] | NLL, mean [95% CI] | seeds |',
    '| --------------------- | -------------------------- | ----------------------- | ------------------ | ----- |',
  ];
  const at = (method, variant, setting = 'primary') => ({ ...mlp30, method, variant, setting });
  const pairs = [
    [
      'SSE α0 = 0.2, all 5',
      at('sse', 'ensemble', 'sse-lr0.2'),
      'SSE α0 = 0.1, all 5',
      at('sse', 'ensemble'),
    ],
    [
      'SSE α0 = 0.2, all 5',
      at('sse', 'ensemble', 'sse-lr0.2'),
      'SSE α0 = 0.2, last',
      at('sse', 'last', 'sse-lr0.2'),
    ],
    [
      'FGE 2-epoch cycles 0.05/0.01',
      at('fge', 'ensemble', 'fge-2epoch'),
      'FGE 1-epoch cycles',
      at('fge', 'ensemble'),
    ],
    [
      'FGE 2-epoch cycles 0.05/0.01',
      at('fge', 'ensemble', 'fge-2epoch'),
      'its baseline',
      at('baseline', 'final', 'fge-2epoch'),
    ],
    [
      'SWA averaged once per epoch, 1 budget',
      at('swa', 'bn', 'swa-every-epoch'),
      'SWA every 10 updates',
      at('swa', 'bn'),
    ],
    [
      'SWA swa_lr 0.05, 1 budget',
      at('swa', 'bn', 'swa-lr0.05'),
      'SWA swa_lr 0.01',
      at('swa', 'bn'),
    ],
    [
      'SWA swa_lr 0.05, 1 budget',
      at('swa', 'bn', 'swa-lr0.05'),
      'baseline (SGD)',
      at('baseline', 'final'),
    ],
    [
      'SWA swa_lr 0.05, 1.5 budgets',
      at('swa', 'budget-1.5', 'swa-lr0.05'),
      'baseline (SGD)',
      at('baseline', 'final'),
    ],
    [
      'SWA swa_lr 0.05, 1.5 budgets',
      at('swa', 'budget-1.5', 'swa-lr0.05'),
      'SWA swa_lr 0.01, 1.5 budgets',
      at('swa', 'budget-1.5'),
    ],
  ];
  for (const [aLabel, a, bLabel, b] of pairs) {
    const e = paired(differences(a, b, 'error'));
    const n = paired(differences(a, b, 'nll'));
    if (!e.n) continue;
    lines.push(`| ${aLabel} | ${bLabel} | ${ci(e)} | ${ci(n, 3)} | ${e.n} |`);
  }
  return lines.join('\n');
}

function curveTable() {
  const lines = [
    '| model | seed | ends | line barrier (nats) | curve barrier (nats) | line: max test error % | curve: max test error % |',
    '| ----- | ---- | ---- | ------------------- | -------------------- | ---------------------- | ----------------------- |',
  ];
  for (const c of curves) {
    lines.push(
      `| ${c.model} | ${c.seed} | ${c.ends.join(' ↔ ')} | ${c.line.barrier.toFixed(3)} | ${c.curve.barrier.toFixed(3)} | ${(100 * Math.max(...c.line.testError)).toFixed(2)} | ${(100 * Math.max(...c.curve.testError)).toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

function timeTable() {
  const groups = new Map();
  for (const j of results.jobs) {
    const kind = j.name.replace(/-s\d+-/, '-s*-');
    const g = groups.get(kind) ?? [];
    g.push(j.seconds);
    groups.set(kind, g);
  }
  const lines = [
    '| job | runs | wall time per run, s (mean; the last attempt of a resumed job; a shared 2-core machine) |',
    '| --- | ---- | ------------------------------------------------------------------------------------ |',
  ];
  for (const [kind, s] of groups) lines.push(`| ${kind} | ${s.length} | ${mean(s).toFixed(0)} |`);
  return lines.join('\n');
}

// ---- plots ----

const COLORS = {
  baseline: '#444444',
  sse: '#1f77b4',
  fge: '#2ca02c',
  swa: '#d62728',
  'swa-1.5': '#ff7f0e',
  swag: '#9467bd',
  deep: '#8c564b',
};

function budgetSvg() {
  const series = (metric) =>
    [
      ['baseline', 'final', 'baseline', COLORS.baseline],
      ['sse', 'ensemble', 'SSE', COLORS.sse],
      ['fge', 'ensemble', 'FGE', COLORS.fge],
      ['swa', 'bn', 'SWA (1 budget)', COLORS.swa],
      ['swa', 'budget-1.5', 'SWA (1.5 budgets)', COLORS['swa-1.5']],
      ['swag', 'bma', 'SWAG', COLORS.swag],
      ['deep-ensemble', 'ensemble', 'deep ensemble (5×)', COLORS.deep],
    ]
      .map(([method, variant, name, color]) => {
        const pts = [10, 20, 30]
          .map((budget) => ({
            budget,
            v: [...bySeed({ model: 'mlp', budget, method, variant }).values()].map(
              (r) => r[METRIC[metric]] * SCALE[metric],
            ),
          }))
          .filter((p) => p.v.length > 0);
        const half = (v) => (v.length > 1 ? halfWidth(v) : 0);
        return {
          name,
          color,
          xs: pts.map((p) => p.budget),
          ys: pts.map((p) => mean(p.v)),
          lo: pts.map((p) => mean(p.v) - half(p.v)),
          hi: pts.map((p) => mean(p.v) + half(p.v)),
        };
      })
      .filter((s) => s.xs.length > 0);
  return svgGrid([
    linePanel({
      title: 'MLP: test error vs budget (95% CI)',
      xLabel: 'budget B (epochs)',
      yLabel: 'test error %',
      series: series('error'),
    }),
    linePanel({
      title: 'MLP: test NLL vs budget (95% CI)',
      xLabel: 'budget B (epochs)',
      yLabel: 'NLL (nats)',
      series: series('nll'),
    }),
  ]);
}

function sizeSvg() {
  const panel = (model, budget) => {
    const series = [
      ['sse', 'SSE (first k)', COLORS.sse],
      ['fge', 'FGE (first k)', COLORS.fge],
    ].map(([method, name, color]) => {
      const ks = [
        ...new Set(
          rows
            .filter(
              (r) =>
                r.model === model &&
                r.budget === budget &&
                r.method === method &&
                r.setting === 'primary' &&
                r.variant.startsWith('first-'),
            )
            .map((r) => r.members),
        ),
      ].sort((a, b) => a - b);
      const vals = ks.map((k) =>
        [...bySeed({ model, budget, method, variant: `first-${k}` }).values()].map(
          (r) => 100 * r.testError,
        ),
      );
      return { name, color, xs: ks, ys: vals.map(mean) };
    });
    const base = [...bySeed({ model, budget, method: 'baseline', variant: 'final' }).values()].map(
      (r) => 100 * r.testError,
    );
    const xs = series.flatMap((s) => s.xs);
    if (base.length && xs.length)
      series.push({
        name: 'baseline',
        color: COLORS.baseline,
        dash: true,
        xs: [Math.min(...xs), Math.max(...xs)],
        ys: [mean(base), mean(base)],
      });
    return linePanel({
      title: `${model.toUpperCase()}, B = ${budget}: ensemble of the first k members`,
      xLabel: 'members k',
      yLabel: 'test error % (mean over seeds)',
      series: series.filter((s) => s.xs.length),
    });
  };
  return svgGrid([panel('mlp', 30), panel('cnn', CNN.budget)]);
}

function reliabilitySvg(model, budget) {
  const label = {
    baseline: 'baseline',
    sse: 'SSE ensemble',
    fge: 'FGE ensemble',
    swa: 'SWA (1.5 budgets)',
  };
  const panels = results.reliability
    .filter((r) => r.model === model && r.budget === budget)
    .map((r) =>
      reliabilityPanel({
        title: `${model.toUpperCase()} B = ${budget}: ${label[r.method]} (all seeds pooled)`,
        bins: r.bins,
      }),
    );
  return panels.length ? svgGrid(panels) : undefined;
}

function curveSvg() {
  const panels = [];
  for (const model of ['mlp', 'cnn']) {
    const own = curves.filter((c) => c.model === model);
    if (!own.length) continue;
    const series = own.flatMap((c, i) => [
      { name: i === 0 ? 'Bezier curve' : '', color: '#1f77b4', xs: c.t, ys: c.curve.trainLoss },
      {
        name: i === 0 ? 'straight line' : '',
        color: '#d62728',
        dash: true,
        xs: c.t,
        ys: c.line.trainLoss,
      },
    ]);
    panels.push(
      linePanel({
        title: `${model.toUpperCase()}: training loss along the paths (${own.length} seeds)`,
        xLabel: 't',
        yLabel: 'train loss (nats)',
        series,
      }),
    );
  }
  return panels.length ? svgGrid(panels) : undefined;
}

const plots = {
  'results-budget-mlp.svg': budgetSvg(),
  'results-ensemble-size.svg': sizeSvg(),
  'results-reliability-mlp.svg': reliabilitySvg('mlp', 30),
  'results-reliability-cnn.svg': reliabilitySvg('cnn', CNN.budget),
  'results-curves.svg': curveSvg(),
};
for (const [name, svg] of Object.entries(plots)) if (svg) writeFileSync(join(DOCS, name), svg);

// ---- RESULTS.md ----

const claims = claimRows();
const seedsDone = (model, budget) =>
  new Set(
    rows
      .filter((r) => r.model === model && r.budget === budget && r.method === 'baseline')
      .map((r) => r.seed),
  ).size;
const progress = [
  ...Object.entries(MLP_SEEDS).map(
    ([b, n]) => `MLP B = ${b}: ${seedsDone('mlp', Number(b))}/${n} seeds`,
  ),
  `CNN B = ${CNN.budget}: ${seedsDone('cnn', CNN.budget)}/${CNN.seeds} seeds`,
].join('; ');
const generated = [
  `Collected ${results.collected.slice(0, 16).replace('T', ' ')} UTC from ${results.jobs.length} finished jobs (${progress}); commits ${results.commits.map((c) => c.slice(0, 7)).join(', ')}; ${results.backends.join('; ')}; tfjs ${results.tfjs ?? '?'}; Node ${results.node}.`,
  '',
  '### Verdicts (primary claims)',
  '',
  verdictTable(claims),
  '',
  '### Test metrics, MLP (10,000 training images), mean ± 95% CI half-width over seeds; differences paired by seed',
  '',
  ...[30, 20, 10].flatMap((b) => [`**B = ${b}**`, '', metricsTable('mlp', b), '']),
  `### Test metrics, CNN, B = ${CNN.budget}`,
  '',
  metricsTable('cnn', CNN.budget),
  '',
  '### Differences by budget (MLP): paired error differences, mean [95% CI] (seeds with d < 0)',
  '',
  budgetTable(),
  '',
  '### Second settings (MLP, B = 30)',
  '',
  secondSettingTable(),
  '',
  '### Mode connectivity: loss barrier = max training loss along the path − mean of the two ends',
  '',
  curveTable(),
  '',
  '### Wall time per job',
  '',
  timeTable(),
  '',
  '![test error and NLL vs budget](results-budget-mlp.svg)',
  '',
  '![ensemble size curves](results-ensemble-size.svg)',
  '',
  'Reliability diagrams: bars are the accuracy in each confidence bin, red ticks its mean confidence, the number the examples in it (all test predictions of all seeds).',
  '',
  ...(plots['results-reliability-mlp.svg']
    ? ['![reliability diagrams, MLP](results-reliability-mlp.svg)', '']
    : []),
  ...(plots['results-reliability-cnn.svg']
    ? ['![reliability diagrams, CNN](results-reliability-cnn.svg)', '']
    : []),
  ...(plots['results-curves.svg'] ? ['![curve vs line](results-curves.svg)', ''] : []),
].join('\n');

const BEGIN = '<!-- generated by docs/make-results.mjs: begin -->';
const END = '<!-- generated by docs/make-results.mjs: end -->';
const page = readFileSync(join(DOCS, 'RESULTS.md'), 'utf8');
const start = page.indexOf(BEGIN);
const stop = page.indexOf(END);
if (start < 0 || stop < 0) throw new Error(`docs/RESULTS.md lacks the ${BEGIN} … ${END} markers`);
writeFileSync(
  join(DOCS, 'RESULTS.md'),
  `${page.slice(0, start + BEGIN.length)}\n${generated}\n${page.slice(stop)}`,
);
console.log(verdictTable(claims));
