// The jobs of the Results v2 study (docs/RESULTS.md), highest priority first: the primary MLP arm
// at B = 30 (10 seeds), then B = 20 and 10 (5 seeds), the CNN arm (B = 20, 5 seeds), the second
// settings, and the deep ensembles (evaluated from the baselines, no extra training).
// `{runs}` stands for the runs folder; `needs` lists jobs that must be done first.

export const DATA_DIR = '/usr/share/datasets/fashion-mnist';
export const SEED_STEP = 10;
export const MLP_SEEDS = { 30: 10, 20: 5, 10: 5 };
export const CNN = { budget: 20, seeds: 5 };
export const SECOND_SETTING_SEEDS = 5;
export const CURVE_SEEDS = 3;
export const DEEP_ENSEMBLE_SIZE = 5;

const common = (model, budget, seed) => [
  '--backend',
  'auto',
  '--model',
  model,
  '--data',
  'fashion-mnist',
  '--data-dir',
  DATA_DIR,
  '--train-limit',
  '10000',
  '--lr',
  '0.1',
  '--batch-size',
  '128',
  '--budget',
  String(budget),
  '--seed',
  String(seed),
  '--eval-every',
  '0',
];

/** SSE (M = 5, α0), FGE from 0.8·B with `cycleEpochs`-epoch cycles, and the baseline it branches from. */
const ensembles = ({ sseLr = 0.1, cycleEpochs = 1, lr1 = 0.05, lr2 = 0.005, budget }) => [
  '--cycles',
  '5',
  '--sse-lr',
  String(sseLr),
  '--fge-start',
  '0.8',
  '--fge-cycle-epochs',
  String(cycleEpochs),
  '--fge-cycles',
  String(Math.round((0.2 * budget) / cycleEpochs)),
  '--fge-lr1',
  String(lr1),
  '--fge-lr2',
  String(lr2),
];

/** SWA from 0.8·B, scored at 1, 1.25 and 1.5·B; SWAG (K = 20, 30 samples) beside it on the MLP. */
const swa = ({ budget, swaLr = 0.01, every = '10', swag = true }) => [
  '--methods',
  'swa',
  '--swa-start',
  String(Math.round(0.8 * budget)),
  '--swa-lr',
  String(swaLr),
  '--swa-every',
  every,
  '--swa-budget',
  '1,1.25,1.5',
  ...(swag ? ['--swag-rank', '20', '--swag-samples', '30'] : []),
  '--no-curve',
];

const seeds = (n) => Array.from({ length: n }, (_, k) => k * SEED_STEP);
const name = (model, budget, seed, what) => `${model}-b${budget}-s${seed}-${what}`;

function armJobs(model, budget, n) {
  const jobs = [];
  for (const [k, seed] of seeds(n).entries()) {
    const curve = k < CURVE_SEEDS && (budget === 30 || model === 'cnn');
    jobs.push({
      name: name(model, budget, seed, 'core'),
      command: [
        'compare',
        ...common(model, budget, seed),
        '--methods',
        'baseline,sse,fge',
        ...ensembles({ budget }),
        ...(curve ? ['--curve-epochs', '2', '--points', '21'] : ['--no-curve']),
      ],
    });
    jobs.push({
      name: name(model, budget, seed, 'swa'),
      // SWAG's 30 draws, each with a BN recompute over the training set, at three budgets cost
      // the CNN more than its training; SWAG's claim (10) is on the MLP.
      command: [
        'compare',
        ...common(model, budget, seed),
        ...swa({ budget, swag: model === 'mlp' }),
      ],
    });
  }
  return jobs;
}

function secondSettingJobs(budget, n) {
  const jobs = [];
  for (const seed of seeds(n)) {
    const base = common('mlp', budget, seed);
    jobs.push(
      {
        name: name('mlp', budget, seed, 'sse-lr0.2'),
        command: [
          'compare',
          ...base,
          '--methods',
          'sse',
          ...ensembles({ budget, sseLr: 0.2 }),
          '--no-curve',
        ],
      },
      {
        name: name('mlp', budget, seed, 'fge-2epoch'),
        command: [
          'compare',
          ...base,
          '--methods',
          'baseline,fge',
          ...ensembles({ budget, cycleEpochs: 2, lr1: 0.05, lr2: 0.01 }),
          '--no-curve',
        ],
      },
      {
        name: name('mlp', budget, seed, 'swa-epoch'),
        command: ['compare', ...base, ...swa({ budget, every: 'epoch' })],
      },
      {
        name: name('mlp', budget, seed, 'swa-lr0.05'),
        command: ['compare', ...base, ...swa({ budget, swaLr: 0.05 })],
      },
    );
  }
  return jobs;
}

/** The deep ensemble of seed k: the baselines of seeds k…k+4 (cyclically), scored together. */
function deepEnsembleJobs(model, budget, n) {
  const all = seeds(n);
  // With as many seeds as members every window holds the same baselines: one ensemble.
  const windows = n > DEEP_ENSEMBLE_SIZE ? all : all.slice(0, 1);
  return windows.map((seed, k) => {
    const members = Array.from({ length: DEEP_ENSEMBLE_SIZE }, (_, j) => all[(k + j) % all.length]);
    return {
      name: name(model, budget, seed, 'deep'),
      needs: members.map((s) => name(model, budget, s, 'core')),
      noOut: true,
      command: [
        'eval',
        '--backend',
        'auto',
        '--data-dir',
        DATA_DIR,
        ...members.map((s) => `{runs}/${name(model, budget, s, 'core')}/baseline`),
      ],
    };
  });
}

export function studyJobs() {
  return [
    ...armJobs('mlp', 30, MLP_SEEDS[30]),
    ...deepEnsembleJobs('mlp', 30, MLP_SEEDS[30]),
    ...armJobs('mlp', 20, MLP_SEEDS[20]),
    ...armJobs('mlp', 10, MLP_SEEDS[10]),
    ...deepEnsembleJobs('mlp', 20, MLP_SEEDS[20]),
    ...deepEnsembleJobs('mlp', 10, MLP_SEEDS[10]),
    ...armJobs('cnn', CNN.budget, CNN.seeds),
    ...deepEnsembleJobs('cnn', CNN.budget, CNN.seeds),
    ...secondSettingJobs(30, SECOND_SETTING_SEEDS),
  ];
}
