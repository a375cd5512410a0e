// The first ```js block of the top-level README and of every package README must run as written. The block is written to a
// temporary .mjs in bench/ (a workspace package that depends on every @onerun package and on
// tfjs, so the imports resolve exactly as in a user's project) and run with node against the
// built packages (`pnpm test` builds first).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** The first fenced ```js block of a README, or undefined. */
function firstJsBlock(markdown: string): string | undefined {
  return /```js\n([\s\S]*?)\n```/.exec(markdown)?.[1];
}

const readmes = [
  'README.md',
  ...readdirSync(join(root, 'packages'))
    .sort()
    .map((name) => `packages/${name}/README.md`),
];

describe('README examples', () => {
  it.each(readmes)('%s: the first example runs as written', async (path) => {
    const name = path === 'README.md' ? 'top' : (path.split('/')[1] as string);
    const readme = readFileSync(join(root, path), 'utf8');
    const code = firstJsBlock(readme);
    expect(code, `${path} has no \`\`\`js block`).toBeDefined();
    const imports = [...(code as string).matchAll(/from '(@[^/']+\/[^/']+|[^@./'][^/']*)/g)].map(
      (m) => m[1] as string,
    );
    const install = /```sh\nnpm install ([^\n]+)\n```/.exec(readme)?.[1]?.split(/\s+/) ?? [];
    // The install line names every package the example imports.
    expect(install, `${path} install line`).toEqual(
      expect.arrayContaining([...new Set(imports.filter((i) => !i.startsWith('node:')))]),
    );
    const file = join(root, 'bench', `.readme-${name}.mjs`);
    writeFileSync(file, code as string);
    try {
      const { stdout } = await run(process.execPath, [file], { cwd: root, timeout: 120_000 });
      expect(stdout.length).toBeGreaterThan(0);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
