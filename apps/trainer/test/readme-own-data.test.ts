import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers.js';
import { writeCsv, writeNpz, writePngFolder } from './own-data-fixtures.js';

const run = promisify(execFile);
const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** The "Your own model and data" section of the app's README. */
async function section(): Promise<string> {
  const text = await readFile(README, 'utf8');
  const start = text.indexOf('## Your own model and data');
  return text.slice(start, text.indexOf('\n## ', start + 1));
}

let cwd: string;
beforeAll(async () => {
  // The files the section's commands name, made from the embedded Fashion-MNIST slice.
  cwd = await mkdtemp(join(tmpdir(), 'onerun-readme-own-'));
  await writePngFolder(join(cwd, 'images'), { perClass: 10 });
  await writeCsv(join(cwd, 'iris.csv'), 90);
  await writeNpz(join(cwd, 'data.npz'), 8);
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe('README: Your own model and data', () => {
  it('its module example and its commands run as written (on the cpu backend, quietly)', async () => {
    const text = await section();
    const module = /```js\n([\s\S]*?)\n```/.exec(text)?.[1];
    expect(module).toContain('export function createModel');
    await writeFile(join(cwd, 'my-model.mjs'), module!);
    const commands = (/```sh\n([\s\S]*?)\n```/.exec(text)?.[1] ?? '').split('\n').filter(Boolean);
    expect(commands.length).toBe(4);
    for (const command of commands) {
      const [program, ...args] = command.split(/\s+/);
      expect(program).toBe('onerun');
      const r = await run(process.execPath, [CLI, ...args, '--backend', 'cpu', '--quiet'], {
        cwd,
      }).catch((error: { code: number; stderr: string }) => error);
      expect('code' in r ? r.stderr : '', command).toBe('');
    }
    const classes = JSON.parse(
      await readFile(join(cwd, 'runs', 'iris-swa', 'classes.json'), 'utf8'),
    );
    expect(classes).toEqual({ classes: ['setosa', 'versicolor', 'virginica'] });
  }, 300_000);
});
