import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkNativeAddon, type NativeCheckResult } from './check.js';
import { compileAddon, findToolchain } from './compile.js';
import { NativeBuildError, NativePackageNotFoundError } from './errors.js';
import {
  findNativePackage,
  isAddonBuilt,
  NATIVE_PACKAGES,
  type NativePackage,
  type NativePackageName,
} from './packages.js';
import { FRAMEWORK_LIBRARY, stageTensorflow, TENSORFLOW_LIBRARY } from './stage.js';
import { requiredSymbols, verifySymbols } from './symbols.js';
import { DEFAULT_TENSORFLOW_VERSION, obtainWheel } from './wheel.js';

/** Options of {@link buildNative}. */
export interface BuildNativeOptions {
  /** The application's folder, where the native package is resolved from (default: the working directory). */
  from?: string;
  /** Which packages to build (default: every one of `NATIVE_PACKAGES` installed for the application). */
  packages?: NativePackageName[];
  /** A TensorFlow wheel to use instead of downloading one (the same file for every package built). */
  wheel?: string;
  /** The TensorFlow release to download (default {@link DEFAULT_TENSORFLOW_VERSION}). */
  tensorflowVersion?: string;
  /** Where pip downloads wheels (default `<from>/node_modules/.cache/onerun-native`). */
  cacheDir?: string;
  /** Folder holding `include/node/node_api.h` (default: `npm_config_nodedir`, else Node's own prefix). */
  nodedir?: string;
  /** Rebuild the addon even if it is already built against the staged wheel. */
  force?: boolean;
  /** Progress lines (default: to stderr). */
  log?: (line: string) => void;
}

/** One package built (or found already built) by {@link buildNative}. */
export interface NativeBuildResult {
  package: NativePackageName;
  dir: string;
  wheel: string;
  /** Whether this call unpacked the wheel / compiled the addon (false: already done, verified). */
  staged: boolean;
  compiled: boolean;
  check: NativeCheckResult;
}

const BUILD_RECORD = 'onerun-addon.json';

/**
 * Makes an installed `@tensorflow/tfjs-node` (or `-gpu`) loadable without its install-time
 * download: obtains an official TensorFlow wheel (`tensorflow-cpu`, or `tensorflow` for the GPU
 * package), stages its `libtensorflow_cc` and C headers into the package's `deps/`, checks that
 * the library exports every C API function the binding calls, builds the addon from source with
 * the package's own node-pre-gyp against the local Node headers, then loads it in a child process
 * and compares a set of ops with the cpu backend. Steps already done (same wheel staged, addon
 * built against it) are verified and skipped. Every failure is a `NativeBuildError` subclass.
 */
export async function buildNative(options: BuildNativeOptions = {}): Promise<NativeBuildResult[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new NativeBuildError(
      'UNSUPPORTED_PLATFORM',
      'locate',
      `building the native addon from a TensorFlow wheel is supported on Linux x64; this is ${process.platform} ${process.arch}`,
    );
  }
  const from = resolve(options.from ?? process.cwd());
  const names = options.packages ?? (Object.keys(NATIVE_PACKAGES) as NativePackageName[]);
  const found: NativePackage[] = [];
  for (const name of names) {
    const pkg = findNativePackage(name, from);
    if (pkg !== undefined) found.push(pkg);
    else if (options.packages !== undefined) throw new NativePackageNotFoundError(name, from);
  }
  if (found.length === 0) throw new NativePackageNotFoundError(names.join(' or '), from);
  const results: NativeBuildResult[] = [];
  for (const pkg of found) results.push(await buildOne(pkg, from, options, log));
  return results;
}

async function buildOne(
  pkg: NativePackage,
  from: string,
  options: BuildNativeOptions,
  log: (line: string) => void,
): Promise<NativeBuildResult> {
  log(`${pkg.name}@${pkg.version}: ${pkg.dir}`);
  const wheel = await obtainWheel({
    ...(options.wheel !== undefined ? { path: options.wheel } : {}),
    project: NATIVE_PACKAGES[pkg.name].wheel,
    version: options.tensorflowVersion ?? DEFAULT_TENSORFLOW_VERSION,
    cacheDir: resolve(options.cacheDir ?? join(from, 'node_modules', '.cache', 'onerun-native')),
    log,
  });
  const { staged, record } = await stageTensorflow(pkg.dir, wheel, log);
  const deps = join(pkg.dir, 'deps');
  const required = await requiredSymbols(join(pkg.dir, 'binding'), join(deps, 'include'));
  const libraries = [TENSORFLOW_LIBRARY, FRAMEWORK_LIBRARY];
  await verifySymbols(
    libraries.map((l) => join(deps, 'lib', l)),
    required,
  );
  log(
    `verify: ${libraries.join(' + ')} export all ${required.length} C API functions the binding calls`,
  );
  const builtFor = await readBuildRecord(deps);
  const upToDate = !staged && !options.force && isAddonBuilt(pkg) && builtFor === record.wheel;
  if (upToDate) {
    log(`build: ${pkg.bindingPath} already built against ${record.wheel}`);
  } else {
    const toolchain = findToolchain(pkg.dir, options.nodedir);
    const started = Date.now();
    await compileAddon(pkg, toolchain, log);
    await writeFile(join(deps, BUILD_RECORD), `${JSON.stringify({ wheel: record.wheel })}\n`);
    log(`build: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  const check = await checkNativeAddon(pkg);
  const worst = Math.max(...check.ops.map((o) => o.error));
  log(
    `check: '${check.backend}' backend, TensorFlow ${check.tensorflowVersion}, loads in ${check.loadSeconds.toFixed(1)} s; ` +
      `${check.ops.length} ops agree with cpu (largest relative difference ${worst.toExponential(1)})`,
  );
  return { package: pkg.name, dir: pkg.dir, wheel, staged, compiled: !upToDate, check };
}

async function readBuildRecord(deps: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(join(deps, BUILD_RECORD), 'utf8')) as { wheel?: string })
      .wheel;
  } catch {
    return undefined;
  }
}
