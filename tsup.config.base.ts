import type { Options } from 'tsup';

/**
 * The build every onerun package shares: ESM + CJS + .d.ts from `src/index.ts`. Packages
 * re-export this (or spread it and override) from their own `tsup.config.ts`.
 */
export const packageBuild: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
};
