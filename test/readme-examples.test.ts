// Every package README's first ```js block must run as written. The block is written to a
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

const packages = readdirSync(join(root, 'packages')).sort();

describe('package README examples', () => {
  it.each(packages)('%s: the first example runs as written', async (name) => {
    const readme = readFileSync(join(root, 'packages', name, 'README.md'), 'utf8');
    const code = firstJsBlock(readme);
    expect(code, `packages/${name}/README.md has no \`\`\`js block`).toBeDefined();
    const imports = [...(code as string).matchAll(/from '(@[^/']+\/[^/']+|[^@./'][^/']*)/g)].map(
      (m) => m[1] as string,
    );
    const install = /```sh\nnpm install ([^\n]+)\n```/.exec(readme)?.[1]?.split(/\s+/) ?? [];
    // The install line names every package the example imports.
    expect(install, `packages/${name}/README.md install line`).toEqual(
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
