#!/usr/bin/env node
// The `onerun-backend` command. A committed file (not dist/cli.js itself), so package managers
// can link the bin at install time, before the package is built; it runs the built CLI.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'onerun-backend: @onerun/backend is not built yet (no dist/cli.js); in the onerun repository run `npx --yes pnpm@10.34.9 native`, which builds it and then the native backend.\n',
  );
  process.exit(2);
}
await import(cli.href);
