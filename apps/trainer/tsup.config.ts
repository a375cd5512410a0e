import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.base';

// The app ships the CLI beside its programmatic entry, as ESM only.
export default defineConfig({
  ...packageBuild,
  entry: ['src/index.ts', 'src/cli.ts', 'src/compare-worker.ts'],
  format: ['esm'],
});
