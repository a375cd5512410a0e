import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onerun, onerunHere, SMALL } from './helpers.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onerun-cli-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** One line on stderr naming the problem, exit status 2, nothing on stdout. */
function expectUsageError(
  result: { code: number; stdout: string; stderr: string },
  pattern: RegExp,
) {
  expect(result.code).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^(onerun: )?error: /);
  expect(lines[0]).toMatch(pattern);
}

describe('onerun --help', () => {
  it('documents every command and exits 0', async () => {
    // The built binary itself, once.
    const top = await onerun(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['train', 'eval', 'curve', 'compare'])
      expect(top.stdout).toContain(command);
    const helps = await Promise.all(
      ['train', 'eval', 'curve', 'compare'].map((c) => onerunHere([c, '--help'])),
    );
    for (const h of helps) expect(h.code).toBe(0);
    expect(helps[0]!.stdout).toMatch(
      /--method <name>[^(]+\(choices: "baseline", "sse", "fge",\s+"swa"/,
    );
    expect(helps[1]!.stdout).toContain('<dir>');
    expect(helps[2]!.stdout).toMatch(/<a>.*<b>/s);
    expect(helps[3]!.stdout).toContain('--budget <epochs>');
  });
});

describe('CLI conventions', () => {
  it('has a help command, for the program and for each command', async () => {
    const top = await onerunHere(['help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: onerun \[options\] \[command\]/);
    const train = await onerunHere(['help', 'train']);
    expect(train.code).toBe(0);
    expect(train.stdout).toMatch(/^Usage: onerun train \[options\]/);
  });

  it('names an unknown command and the nearest one, with the one error prefix', async () => {
    expectUsageError(
      await onerunHere(['traing']),
      /^onerun: error: unknown command 'traing' — did you mean 'train'\?/,
    );
    expectUsageError(await onerunHere(['frobnicate']), /unknown command 'frobnicate' \(commands:/);
    // Commander's own errors carry the same prefix as the app's.
    expectUsageError(
      await onerunHere(['compare', '--budget', 'x', '--out', join(root, 'x')]),
      /^onerun: error: option '--budget <epochs>' argument 'x' is invalid/,
    );
  });

  it('prints the version from package.json', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    const r = await onerunHere(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('takes the common options before or after the command', async () => {
    const before = await onerunHere([
      '--json',
      '--backend',
      'cpu',
      'train',
      '--data',
      'synthetic',
      '--quiet',
      '--method',
      'baseline',
      '--epochs',
      '1',
      '--out',
      join(root, 'global-before'),
    ]);
    expect(before.code, before.stderr).toBe(0);
    const out = JSON.parse(before.stdout);
    expect(out.command).toBe('train');
    expect(out.backend.backend).toBe('cpu');
  });

  it('writes one plain line per epoch on stderr when it is not a terminal', async () => {
    const r = await onerun([
      'train',
      '--data',
      'synthetic',
      '--backend',
      'cpu',
      '--method',
      'baseline',
      '--epochs',
      '2',
      '--out',
      join(root, 'plain-progress'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^baseline epoch 1\/2: loss \d+\.\d+, lr [\d.e-]+, test \d+\.\d+% \(NLL \d+\.\d+\), \d+\.\d s$/,
    );
    expect(lines[1]).toMatch(/^baseline epoch 2\/2: /);
  });
});

describe('onerun train / eval / curve', () => {
  const sse = () => join(root, 'sse');
  const swa = () => join(root, 'swa');

  it('trains SSE into a run folder and prints JSON', async () => {
    const r = await onerunHere([
      'train',
      ...SMALL,
      '--method',
      'sse',
      '--epochs',
      '4',
      '--cycles',
      '2',
      '--out',
      sse(),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.config).toMatchObject({ method: 'sse', model: 'mlp', data: 'synthetic', epochs: 4 });
    expect(out.backend.backend).toBe('cpu');
    expect(out.metrics.models).toBe(2);
    expect(out.metrics.result.accuracy).toBeGreaterThan(0.5);
    for (const name of ['config.json', 'progress.json', 'metrics.json', 'report.html']) {
      expect(existsSync(join(sse(), name)), name).toBe(true);
    }
    expect((await readdir(join(sse(), 'charts'))).sort()).toEqual([
      'ensemble-size.svg',
      'lr-schedule.svg',
      'reliability.svg',
      'test-error-by-epoch.svg',
      'test-nll-by-epoch.svg',
      'training-loss.svg',
    ]);
    expect(existsSync(join(sse(), 'metrics.csv'))).toBe(true);
    const manifest = JSON.parse(await readFile(join(sse(), 'snapshots', 'manifest.json'), 'utf8'));
    expect(manifest.snapshots).toHaveLength(2);
    const config = JSON.parse(await readFile(join(sse(), 'config.json'), 'utf8'));
    expect(config.backend.backend).toBe('cpu');
    // No fused training path on the cpu backend unless registered for it.
    expect(config.backend.fusedTraining).toBeUndefined();
  });

  it('trains SWA and evaluates it with and without the batch-norm recompute', async () => {
    const r = await onerunHere([
      'train',
      ...SMALL,
      '--method',
      'swa',
      '--epochs',
      '4',
      '--out',
      swa(),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/test: \d+\.\d+% accuracy.*average of 2/);
    const e = await onerunHere(['eval', swa(), '--backend', 'cpu', '--json']);
    expect(e.code, e.stderr).toBe(0);
    const { metrics } = JSON.parse(e.stdout);
    expect(metrics.members.map((m: { kind: string }) => m.kind)).toEqual([
      'sgd',
      'swa-stale-bn',
      'swa',
    ]);
    expect(metrics.swa.averaged).toBe(2);
  });

  it('evaluates an ensemble: members, ensemble and size curve', async () => {
    const e = await onerunHere(['eval', sse(), '--backend', 'cpu']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/sse: ensemble of 2/);
    expect(e.stdout).toMatch(/^first-2 /m);
    expect(e.stdout).toMatch(/^last-1 /m);
    const json = JSON.parse(
      (await onerunHere(['eval', sse(), '--backend', 'cpu', '--json'])).stdout,
    );
    expect(json.metrics.sizeCurve.at(-1).accuracy).toBe(json.metrics.result.accuracy);
    // The last 1 is the last snapshot alone; the last M is the whole ensemble.
    const { lastK, members, result } = json.metrics;
    expect(lastK.map((p: { k: number }) => p.k)).toEqual([1, 2]);
    expect(lastK[0].nll).toBeCloseTo(members.at(-1).nll, 6);
    expect(lastK[1].nll).toBeCloseTo(result.nll, 6);
  });

  it('finds a curve between two snapshots and compares it with the straight line', async () => {
    const ids = JSON.parse(
      await readFile(join(sse(), 'snapshots', 'manifest.json'), 'utf8'),
    ).snapshots.map((s: { id: string }) => s.id);
    const out = join(root, 'curve');
    const r = await onerunHere([
      'curve',
      `${sse()}:${ids[0]}`,
      swa(),
      '--out',
      out,
      '--backend',
      'cpu',
      '--epochs',
      '1',
      '--points',
      '5',
      '--eval-examples',
      '256',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.curve.t).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(result.line.trainLoss).toHaveLength(5);
    // Both paths share their ends: t = 0 and t = 1 give the same numbers.
    expect(result.curve.trainLoss[0]).toBeCloseTo(result.line.trainLoss[0], 4);
    expect(result.curve.testError[4]).toBeCloseTo(result.line.testError[4], 4);
    for (const name of ['curve.json', 'curve.bin', 'result.json', 'report.html']) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
    // Both runs have the default seed: the report says why the barrier may be ~0.
    expect(await readFile(join(out, 'report.html'), 'utf8')).toMatch(
      /both runs have seed 0: they start from the same initial weights.*barrier near 0/,
    );
  });

  it('refuses bad input with one line naming the problem and the fix', async () => {
    expectUsageError(
      await onerunHere(['train', ...SMALL, '--method', 'bagging', '--out', join(root, 'x')]),
      /'bagging'.*Allowed choices are baseline, sse, fge, swa/,
    );
    expectUsageError(
      await onerunHere(['train', ...SMALL, '--model', 'resnet', '--out', join(root, 'x')]),
      /'resnet'/,
    );
    expectUsageError(
      await onerunHere([
        'train',
        ...SMALL,
        '--method',
        'sse',
        '--epochs',
        '2',
        '--cycles',
        '5',
        '--out',
        join(root, 'x'),
      ]),
      /Budget too small: 2 epochs for 5 SSE cycles.*--epochs ≥ 5 or --cycles ≤ 2/,
    );
    const empty = join(root, 'no-data');
    await mkdir(empty, { recursive: true });
    expectUsageError(
      await onerunHere([
        'train',
        '--data',
        'mnist',
        '--data-dir',
        empty,
        '--backend',
        'cpu',
        '--out',
        join(root, 'x'),
      ]),
      /No mnist IDX files found: tried .*no-data \(missing train-images-idx3-ubyte.*point --data-dir/,
    );
    expect(existsSync(join(root, 'x'))).toBe(false);
  });

  it('never overwrites a run folder without --force', async () => {
    const before = await stat(join(sse(), 'config.json'));
    expectUsageError(
      await onerunHere([
        'train',
        ...SMALL,
        '--method',
        'sse',
        '--epochs',
        '4',
        '--cycles',
        '2',
        '--out',
        sse(),
      ]),
      /already holds a finished sse run; choose another --out, or pass --force to overwrite it/,
    );
    expect((await stat(join(sse(), 'config.json'))).mtimeMs).toBe(before.mtimeMs);
    const other = join(root, 'other');
    await mkdir(other, { recursive: true });
    await writeFile(join(other, 'notes.txt'), 'mine');
    expectUsageError(
      await onerunHere(['train', ...SMALL, '--out', other]),
      /is not an onerun run folder \(no config\.json\); choose another --out/,
    );
    // --force never deletes what a run did not write.
    expectUsageError(
      await onerunHere(['train', ...SMALL, '--force', '--out', other]),
      /is not an onerun run folder/,
    );
    expect(await readdir(other)).toEqual(['notes.txt']);
    expect(await readFile(join(other, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('refuses to mix architectures', async () => {
    const cnn = join(root, 'cnn');
    const r = await onerunHere([
      'train',
      ...SMALL,
      '--model',
      'cnn',
      '--method',
      'baseline',
      '--epochs',
      '1',
      '--train-limit',
      '64',
      '--test-limit',
      '32',
      '--out',
      cnn,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expectUsageError(
      await onerunHere(['curve', sse(), cnn, '--out', join(root, 'c2'), '--backend', 'cpu']),
      /holds mlp on synthetic.*holds cnn on synthetic.*same architecture/,
    );
    // An unfinished run folder resumed with another model.
    const progress = join(cnn, 'progress.json');
    const p = JSON.parse(await readFile(progress, 'utf8'));
    await writeFile(progress, JSON.stringify({ ...p, status: 'running' }));
    expectUsageError(
      await onerunHere(['train', ...SMALL, '--model', 'mlp', '--out', cnn]),
      /holds a run of another architecture \(cnn on synthetic.*not --model mlp; resume it without --model/,
    );
  });
});

describe('CLI traps', () => {
  it('names an unknown option (and the nearest one) before a missing required one', async () => {
    const typo = await onerunHere(['train', '--methd', 'sse']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown option '--methd'/);
    expect(typo.stderr).toMatch(/--method/);
    expect(typo.stderr).not.toMatch(/required option/);
    const budget = await onerunHere(['compare', '--budgt', '3']);
    expect(budget.code).toBe(2);
    expect(budget.stderr).toMatch(/unknown option '--budgt'[\s\S]*--budget/);
    // Without a typo, the missing one is named as before.
    const missing = await onerunHere(['train', '--method', 'sse']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--out <dir>' not specified/);
  });

  it('marks required options in help, and --jobs says the default that runs', async () => {
    for (const command of ['train', 'compare', 'curve', 'report']) {
      const help = await onerunHere([command, '--help']);
      expect(help.stdout.replace(/\s+/g, ' '), command).toMatch(/--out <dir> \(required\)/);
    }
    const help = (await onerunHere(['compare', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain(
      `one per CPU core — ${availableParallelism()} here — at most one per independent method`,
    );
    expect((await onerunHere(['--help'])).stdout.replace(/\s+/g, ' ')).not.toMatch(
      /--out <dir> \(required\)/,
    );
  });
});

describe('onerun compare', () => {
  it('compares the four methods, prints one table and draws the report in Chromium', {
    timeout: 300_000,
  }, async () => {
    const out = join(root, 'compare');
    const r = await onerunHere([
      'compare',
      ...SMALL,
      '--budget',
      '5',
      '--cycles',
      '2',
      '--fge-cycles',
      '2',
      '--out',
      out,
      '--curve-epochs',
      '1',
      '--points',
      '5',
      '--eval-examples',
      '256',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const header = lines.findIndex((l) =>
      /^method\s+result\s+test acc\s+NLL\s+ECE\s+Brier/.test(l),
    );
    expect(header).toBeGreaterThanOrEqual(0);
    expect(lines.slice(header + 2, header + 8).map((l) => l.trim().split(/\s+/)[0])).toEqual([
      'baseline',
      'sse',
      'fge',
      'fge-start',
      'swa',
      'swa-stale-bn',
    ]);
    expect(lines[header + 5]).toMatch(/^ {2}fge-start\s+single model\s+\d+\.\d+%/);
    // Each method against the baseline, with a paired bootstrap interval and a verdict in words.
    expect(lines[header]).toMatch(/Δ acc vs baseline, 95% CI\s+Δ NLL, 95% CI\s+train s$/);
    expect(lines[header + 2]).toMatch(/\(reference\)\s+\(reference\)/);
    expect(lines[header + 3]).toMatch(
      /[+-]\d+\.\d\d \[[+-]\d+\.\d\d, [+-]\d+\.\d\d\]\s+[+-]\d\.\d{3} \[/,
    );
    expect(r.stdout).toMatch(
      /^accuracy: (\w+ wins, [+-]\d|no method beats the baseline beyond noise)/m,
    );
    expect(r.stdout).toMatch(/^NLL: (\w+ wins, [+-]\d|no method beats the baseline beyond noise)/m);
    const json = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(json.bootstrap).toEqual({ resamples: 2000, level: 0.95, seed: 0 });
    // No --jobs: what help says runs (one per core, at most one per independent method).
    expect(json.jobs).toBe(Math.min(availableParallelism(), 3));
    // Merged with a run of another backend: the times are not comparable, and it says so.
    const native = join(root, 'sse-on-native');
    await cp(join(out, 'sse'), native, { recursive: true });
    const config = JSON.parse(await readFile(join(native, 'config.json'), 'utf8'));
    config.backend.backend = 'tensorflow';
    await writeFile(join(native, 'config.json'), JSON.stringify(config));
    const mixed = await onerunHere([
      'report',
      join(out, 'baseline'),
      native,
      '--out',
      join(root, 'mixed'),
    ]);
    expect(mixed.code, mixed.stderr).toBe(0);
    expect(mixed.stderr).toMatch(
      /runs of different backends merged \(cpu: baseline; tensorflow: sse\): their training times are not comparable/,
    );
    for (const row of json.rows.slice(1)) {
      const { accuracy, nll } = row.vsBaseline;
      expect(accuracy.lower).toBeLessThanOrEqual(accuracy.difference);
      expect(accuracy.upper).toBeGreaterThanOrEqual(accuracy.difference);
      expect(accuracy.difference).toBeCloseTo(
        row.metrics.accuracy - json.rows[0].metrics.accuracy,
        10,
      );
      expect(nll.difference).toBeCloseTo(row.metrics.nll - json.rows[0].metrics.nll, 4);
      expect(['better', 'worse', 'within noise']).toContain(accuracy.verdict);
    }
    expect(json.rows[0].vsBaseline).toBeUndefined();
    expect(r.stdout).toMatch(
      /curve baseline .* sse .*: training-loss barrier -?\d+\.\d+ along the straight line/,
    );
    // FGE branched off the baseline at 80% of the budget: same first 4 epochs.
    const base = JSON.parse(await readFile(join(out, 'baseline', 'progress.json'), 'utf8'));
    const fge = JSON.parse(await readFile(join(out, 'fge', 'progress.json'), 'utf8'));
    expect(fge.history.slice(0, 4)).toEqual(base.history.slice(0, 4));
    expect(fge.history).toHaveLength(5);
    // metrics.csv: one measurement a row, the per-epoch test accuracy as in progress.json.
    const csv = (await readFile(join(out, 'metrics.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('method,variant,seed,epoch,step,metric,value,backend');
    const cells = csv.slice(1).map((l) => l.split(','));
    for (const [method, seed] of [
      ['baseline', '0'],
      ['sse', '1'],
      ['fge', '0'],
      ['swa', '2'],
    ])
      expect(cells.some((c) => c[0] === method && c[1] === method && c[2] === seed)).toBe(true);
    const iterate = (method: string, metric: string) =>
      cells
        .filter((c) => c[0] === method && c[1] === 'iterate' && c[5] === metric)
        .map((c) => [Number(c[3]), Number(c[6])]);
    expect(iterate('baseline', 'test_accuracy')).toEqual(
      base.history.map((e: { epoch: number; testAccuracy: number }) => [e.epoch, e.testAccuracy]),
    );
    // FGE trained only its last epoch (it branched off the baseline after epoch 4).
    expect(iterate('fge', 'train_seconds').map(([e]) => e)).toEqual([5]);
    expect(new Set(cells.map((c) => c[7]))).toEqual(new Set(['cpu']));
    expect(r.stdout).toContain(`metrics: ${join(out, 'metrics.csv')}`);
    expectUsageError(
      await onerunHere([
        'compare',
        ...SMALL,
        '--budget',
        '5',
        '--cycles',
        '2',
        '--fge-cycles',
        '2',
        '--out',
        out,
      ]),
      /already holds a finished comparison; choose another --out, or pass --force to overwrite it/,
    );

    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(pathToFileURL(join(out, 'report.html')).href);
      const charts = await page.$$eval('figure > svg', (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          let drawn = 0;
          svg.querySelectorAll('g.role-mark path, g.role-mark line').forEach((m) => {
            const b = (m as SVGGraphicsElement).getBBox();
            if (b.width > 0 || b.height > 0) drawn++;
          });
          const legendEntries = Array.from(svg.querySelectorAll('g.role-legend-label text')).filter(
            (t) => (t as SVGGraphicsElement).getBBox().width > 0,
          ).length;
          return {
            id: svg.parentElement?.id,
            left: box.left,
            top: box.top,
            width: box.width,
            height: box.height,
            drawn,
            legendEntries,
          };
        }),
      );
      expect(charts.map((c) => c.id)).toEqual([
        'lr-schedule',
        'training-loss',
        'test-error-by-epoch',
        'test-nll-by-epoch',
        'ensemble-size',
        'reliability',
        'curve',
      ]);
      for (const c of charts) {
        expect(c.width, c.id).toBeGreaterThan(100);
        expect(c.height, c.id).toBeGreaterThan(100);
        expect(c.drawn, c.id).toBeGreaterThan(3);
        // Every chart has a legend naming its series (four methods, or the two paths).
        expect(c.legendEntries, c.id).toBeGreaterThanOrEqual(2);
      }
      // Two charts a row on a wide page, all the way down (not one column after the first row).
      const rows = new Map<number, number>();
      for (const c of charts) rows.set(Math.round(c.top), (rows.get(Math.round(c.top)) ?? 0) + 1);
      expect([...rows.values()].slice(0, -1).every((n) => n === 2)).toBe(true);
      const shot = await page.screenshot({ fullPage: true, path: join(out, 'report.png') });
      expect(shot.subarray(1, 4).toString()).toBe('PNG');
      expect(await page.$$eval('table tbody tr', (rows) => rows.length)).toBe(6);
    } finally {
      await browser.close();
    }
  });
});
