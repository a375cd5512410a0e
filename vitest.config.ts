import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const packages = ['core', 'schedules', 'snapshots', 'ensemble', 'swa', 'fge', 'backend'];

export default defineConfig({
  resolve: {
    // Tests run against each package's source, so the suite needs no build and a change in one
    // package is seen by the packages that use it.
    alias: packages.map((name) => ({
      find: new RegExp(`^@onerun/${name}$`),
      replacement: `${root}packages/${name}/src/index.ts`,
    })),
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'apps/*/src/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    setupFiles: [`${root}vitest.setup.ts`],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
