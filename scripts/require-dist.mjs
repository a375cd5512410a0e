// `prepack` of every published package: refuses to pack when the build output the package.json
// points at is missing, so that a publish without a build cannot ship a package without `dist`.
import { existsSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const targets = new Set([pkg.main, pkg.module, pkg.types].filter(Boolean));
const walk = (value) => {
  if (typeof value === 'string') targets.add(value);
  else if (value && typeof value === 'object') Object.values(value).forEach(walk);
};
walk(pkg.exports);
const missing = [...targets].filter((file) => file.startsWith('./dist') && !existsSync(file));
if (missing.length > 0) {
  console.error(
    `${pkg.name}: refusing to pack without its build output (${missing.join(', ')} missing); ` +
      'run `npx --yes pnpm@10.34.9 run build` at the repository root first.',
  );
  process.exit(1);
}
