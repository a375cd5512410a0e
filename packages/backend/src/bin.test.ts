import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const run = (file: string, args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [file, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('the onerun-backend bin', () => {
  it('is a committed file, so installing links it before any build (no ENOENT warnings)', async () => {
    const { bin, files } = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8'));
    expect(bin['onerun-backend']).toBe('./bin/onerun-backend.js');
    expect(files).toContain('bin');
    expect(existsSync(join(pkg, 'bin', 'onerun-backend.js'))).toBe(true);
  });

  it('says how to build the package when dist is missing, and runs the CLI once built', async () => {
    const bare = await mkdtemp(join(tmpdir(), 'onerun-bin-'));
    dirs.push(bare);
    await mkdir(join(bare, 'bin'));
    await copyFile(join(pkg, 'bin', 'onerun-backend.js'), join(bare, 'bin', 'onerun-backend.js'));
    const unbuilt = await run(join(bare, 'bin', 'onerun-backend.js'), ['build-native', '--help']);
    expect(unbuilt.code).toBe(2);
    expect(unbuilt.stderr).toMatch(/not built yet.*npx --yes pnpm@10\.34\.9 native/);
    if (!existsSync(join(pkg, 'dist', 'cli.js'))) return;
    const built = await run(join(pkg, 'bin', 'onerun-backend.js'), ['build-native', '--help']);
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/^Usage: onerun-backend build-native/);
  });
});
