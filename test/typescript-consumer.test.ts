import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');

/** The tsconfig the top-level README recommends to TypeScript users of tfjs 4.22. */
const RECOMMENDED = {
  strict: true,
  module: 'nodenext',
  moduleResolution: 'nodenext',
  target: 'es2022',
  skipLibCheck: true,
  types: ['node'],
  noEmit: true,
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onerun-ts-consumer-'));
  await writeFile(join(dir, 'package.json'), '{"type":"module"}');
  const modules = join(dir, 'node_modules');
  await mkdir(join(modules, '@onerun'), { recursive: true });
  await mkdir(join(modules, '@tensorflow'), { recursive: true });
  await mkdir(join(modules, '@types'), { recursive: true });
  for (const name of ['tfjs', 'tfjs-core', 'tfjs-layers'])
    await symlink(
      join(repo, 'node_modules', '@tensorflow', name),
      join(modules, '@tensorflow', name),
    );
  await symlink(join(repo, 'node_modules', '@types', 'node'), join(modules, '@types', 'node'));
  for (const name of ['core', 'schedules'])
    await symlink(join(repo, 'packages', name), join(modules, '@onerun', name));
  await writeFile(
    join(dir, 'index.ts'),
    [
      "import * as tf from '@tensorflow/tfjs';",
      "import { sseCosine } from '@onerun/schedules';",
      'const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });',
      'const lr: number = sseCosine({ lr0: 0.1, totalSteps: 10, cycles: 2 }).lrAt(0);',
      'process.stdout.write(`${model.countParams()} ${lr}\\n`);',
    ].join('\n'),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function typecheck(options: Record<string, unknown>): Promise<{ code: number; out: string }> {
  return writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: options, files: ['index.ts'] }),
  ).then(
    () =>
      new Promise((resolve) =>
        execFile(process.execPath, [tsc, '-p', dir], (error, stdout) =>
          resolve({ code: error ? 1 : 0, out: stdout }),
        ),
      ),
  );
}

describe("the README's TypeScript advice", () => {
  it('a strict tfjs + onerun consumer compiles with the recommended tsconfig', async () => {
    const r = await typecheck(RECOMMENDED);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it("without skipLibCheck, tfjs 4.22's own type files fail (why the README asks for it)", async () => {
    const { skipLibCheck: _, ...without } = RECOMMENDED;
    const r = await typecheck(without);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/@tensorflow\/tfjs-(core|layers)\/dist\/.*\.d\.ts.*error TS/);
    expect(r.out).not.toMatch(/^index\.ts/m);
  });
});
