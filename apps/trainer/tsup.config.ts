import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.base';

// The app ships the CLI beside its programmatic entry, as ESM only.
export default defineConfig({
  ...packageBuild,
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli/main.ts',
    'compare-worker': 'src/commands/compare-worker.ts',
  },
  format: ['esm'],
});
