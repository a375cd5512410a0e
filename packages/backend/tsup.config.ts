import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.base';

// The library, plus the `onerun-backend` command (build-native) beside it.
export default defineConfig({ ...packageBuild, entry: ['src/index.ts', 'src/cli.ts'] });
