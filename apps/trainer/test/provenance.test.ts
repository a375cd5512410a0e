// Issue 28, defects 1, 2, 3, 13, 16, 17, 19 and 20: no command deletes or overwrites a file it
// did not write. `--force` deletes only what onerun recorded writing (`.onerun-written.json`);
// a folder that is not recognisably onerun's is refused even with --force, and report and curve
// never write into a run folder.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WRITTEN_FILE } from '../src/run-folder/provenance.js';
import { onerunHere, SMALL } from './helpers.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onerun-provenance-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

// 128 synthetic examples in batches of 64, one epoch: a finished run in a moment.
const TINY = ['--batch-size', '64', '--train-limit', '128', '--test-limit', '32', '--epochs', '1'];
const trainArgs = (out: string, extra: string[] = []) => [
  'train',
  ...SMALL,
  ...TINY,
  '--method',
  'baseline',
  '--out',
  out,
  ...extra,
];

let finished: string | undefined;
/** A finished run folder (made once), copied to `name`. */
async function finishedRun(name: string): Promise<string> {
  if (!finished) {
    finished = join(root, 'finished');
    const r = await onerunHere(trainArgs(finished));
    expect(r.code, r.stderr).toBe(0);
  }
  const dir = join(root, name);
  await cp(finished, dir, { recursive: true });
  return dir;
}

async function note(path: string, text = 'my notes'): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
}

describe('--force deletes only what onerun recorded writing', () => {
  it('a fresh run records what train writes', async () => {
    const dir = await finishedRun('recorded');
    const record = JSON.parse(await readFile(join(dir, WRITTEN_FILE), 'utf8'));
    expect(record).toMatchObject({ onerunWritten: 1, command: 'train' });
    expect(record.entries).toEqual(expect.arrayContaining(['config.json', 'snapshots', 'charts']));
  });

  it('defect 1: compare --force into a folder holding a user sse/, curve/, charts/ deletes nothing', async () => {
    const dir = join(root, 'd1');
    for (const sub of ['sse', 'curve', 'charts']) await note(join(dir, sub, 'notes.txt'));
    for (const extra of [[], ['--no-curve']]) {
      const r = await onerunHere([
        'compare',
        ...SMALL,
        ...TINY.filter((a) => a !== '--epochs' && a !== '1'),
        '--budget',
        '1',
        '--methods',
        'baseline',
        '--out',
        dir,
        '--force',
        ...extra,
      ]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${dir} has no record of what onerun wrote into it`);
    }
    for (const sub of ['sse', 'curve', 'charts']) {
      expect(await readFile(join(dir, sub, 'notes.txt'), 'utf8')).toBe('my notes');
    }
  });

  it('defect 2: train --force on a folder with an unparsable config.json deletes nothing and never suggests --force', async () => {
    const dir = join(root, 'd2');
    await note(join(dir, 'config.json'), '{ // my settings\n "lr": 1 }');
    await note(join(dir, 'snapshots', 'mine.txt'));
    await note(join(dir, 'metrics.json'), '{"mine": true}');
    await note(join(dir, 'report.html'), '<p>mine</p>');
    const plain = await onerunHere(trainArgs(dir));
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain(`${join(dir, 'config.json')} is not valid JSON`);
    expect(plain.stderr).not.toContain('--force');
    const forced = await onerunHere(trainArgs(dir, ['--force']));
    expect(forced.code).toBe(2);
    expect(forced.stderr).not.toContain('pass --force');
    expect((await readdir(dir)).sort()).toEqual([
      'config.json',
      'metrics.json',
      'report.html',
      'snapshots',
    ]);
    expect(await readFile(join(dir, 'snapshots', 'mine.txt'), 'utf8')).toBe('my notes');
  });

  it('a run folder whose config.json was damaged is started over with --force (it is recorded as ours)', async () => {
    const dir = await finishedRun('d2-ours');
    await writeFile(join(dir, 'config.json'), '{"onerun": 1, ');
    const plain = await onerunHere(trainArgs(dir));
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('or pass --force to start the run over');
    const forced = await onerunHere(trainArgs(dir, ['--force']));
    expect(forced.code, forced.stderr).toBe(0);
  });

  it('train --force refuses a run folder holding a file onerun did not write, and deletes nothing', async () => {
    const dir = await finishedRun('foreign');
    await note(join(dir, 'my-notes.txt'));
    const before = (await readdir(dir)).sort();
    const r = await onerunHere(trainArgs(dir, ['--force']));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${dir} holds files onerun did not write (my-notes.txt)`);
    expect((await readdir(dir)).sort()).toEqual(before);
  });

  it('defect 3: report and curve never write into a run folder, --force or not', async () => {
    const dir = await finishedRun('d3');
    const before = await readFile(join(dir, 'metrics.json'), 'utf8');
    const report = await onerunHere(['report', dir, '--out', dir, '--force', '--quiet']);
    expect(report.code).toBe(2);
    expect(report.stderr).toContain('onerun report never writes into a run folder');
    const curve = await onerunHere([
      'curve',
      dir,
      dir,
      '--out',
      dir,
      '--force',
      '--backend',
      'cpu',
    ]);
    expect(curve.code).toBe(2);
    expect(curve.stderr).toContain('onerun curve never writes into a run folder');
    expect(await readFile(join(dir, 'metrics.json'), 'utf8')).toBe(before);
    const again = await onerunHere(['report', dir, '--out', join(root, 'd3-report'), '--quiet']);
    expect(again.code, again.stderr).toBe(0);
  });

  it("defect 3: report --force into a folder of the user's deletes nothing", async () => {
    const run = await finishedRun('d3-run');
    const out = join(root, 'd3-user');
    await note(join(out, 'charts', 'mine.svg'), '<svg/>');
    await note(join(out, 'metrics.csv'), 'a,b\n');
    const r = await onerunHere(['report', run, '--out', out, '--force', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('--force');
    expect(await readFile(join(out, 'charts', 'mine.svg'), 'utf8')).toBe('<svg/>');
    expect(await readFile(join(out, 'metrics.csv'), 'utf8')).toBe('a,b\n');
  });

  it('defect 20: report --force removes the temporary a killed report left behind', async () => {
    const run = await finishedRun('d20-run');
    const out = join(root, 'd20');
    expect((await onerunHere(['report', run, '--out', out, '--quiet'])).code).toBe(0);
    // What `kill -9` during the atomic write of report.html leaves.
    await writeFile(join(out, 'report.html.0a1b2c3d.tmp'), '<!doctype html><html>');
    const r = await onerunHere(['report', run, '--out', out, '--force', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect((await readdir(out)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('defect 19: a charts symlink inside a run folder is refused, nothing is written through it', async () => {
    const dir = await finishedRun('d19');
    const outside = join(root, 'd19-outside');
    await note(join(outside, 'training-loss.svg'), 'outside');
    await rm(join(dir, 'charts'), { recursive: true });
    await symlink(outside, join(dir, 'charts'));
    // An unfinished run (as if killed before its final steps): a rerun writes its report.
    const progress = JSON.parse(await readFile(join(dir, 'progress.json'), 'utf8'));
    await writeFile(join(dir, 'progress.json'), JSON.stringify({ ...progress, status: 'running' }));
    const r = await onerunHere(trainArgs(dir));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'charts')} is a symbolic link`);
    expect(await readFile(join(outside, 'training-loss.svg'), 'utf8')).toBe('outside');
  });
});

describe('messages that name the file or value', () => {
  it('defect 13: a damaged config.json value is a typed error naming the file; --force gets past it', async () => {
    for (const [key, value, pattern] of [
      ['method', 'bogus', /Unknown method 'bogus'/],
      ['epochs', -3, /epochs.*-3/],
    ] as const) {
      const dir = await finishedRun(`d13-${key}`);
      const path = join(dir, 'config.json');
      const file = JSON.parse(await readFile(path, 'utf8'));
      file.config[key] = value;
      await writeFile(path, JSON.stringify(file));
      for (const args of [trainArgs(dir), ['report', dir, '--out', join(root, `d13-${key}-r`)]]) {
        const r = await onerunHere(args);
        expect(r.code, `${args[0]} ${key}`).toBe(2);
        expect(r.stderr).toContain(`${path} holds a configuration onerun cannot use`);
        expect(r.stderr).toMatch(pattern);
      }
      const forced = await onerunHere(trainArgs(dir, ['--force']));
      expect(forced.code, forced.stderr).toBe(0);
    }
  });

  it('defect 16: compare --methods sse,sse is refused before anything is written', async () => {
    const out = join(root, 'd16');
    const r = await onerunHere([
      'compare',
      ...SMALL,
      '--budget',
      '1',
      '--methods',
      'sse,sse',
      '--out',
      out,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('names sse twice');
    expect(existsSync(out)).toBe(false);
  });

  it('defect 17: a finished run without metrics.json is scored again by train, and report says so', async () => {
    const dir = await finishedRun('d17');
    const metrics = JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8'));
    await rm(join(dir, 'metrics.json'));
    const report = await onerunHere(['report', dir, '--out', join(root, 'd17-r'), '--quiet']);
    expect(report.code).toBe(2);
    expect(report.stderr).toContain('rerun its train command');
    expect(report.stderr).not.toContain('unfinished');
    const train = await onerunHere(trainArgs(dir));
    expect(train.code, train.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8'))).toEqual(metrics);
    const again = await onerunHere(['report', dir, '--out', join(root, 'd17-r'), '--quiet']);
    expect(again.code, again.stderr).toBe(0);
  });
});
