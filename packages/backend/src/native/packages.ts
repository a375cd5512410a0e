import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/** The native tfjs packages whose addon `buildNative` can build, with the wheel each one needs. */
export const NATIVE_PACKAGES = {
  '@tensorflow/tfjs-node': { wheel: 'tensorflow-cpu', gpu: false },
  '@tensorflow/tfjs-node-gpu': { wheel: 'tensorflow', gpu: true },
} as const;

/** `@tensorflow/tfjs-node` or `@tensorflow/tfjs-node-gpu`. */
export type NativePackageName = keyof typeof NATIVE_PACKAGES;

/** The command that builds a native addon, as error messages and docs name it. */
export const BUILD_NATIVE_COMMAND = 'npx @onerun/backend build-native';

/** An installed native tfjs package, as found from an application's folder. */
export interface NativePackage {
  name: NativePackageName;
  /** The package's real folder (pnpm links resolved): where `deps/` and `lib/` live. */
  dir: string;
  version: string;
  /** Where the package's loader looks for its addon (`lib/napi-v8/tfjs_binding.node`). */
  bindingPath: string;
}

interface BinaryField {
  module_name: string;
  module_path: string;
  napi_versions?: number[];
}

/**
 * Finds `name` as the application in `from` would `import` it: in `node_modules` of that folder or
 * of a folder above it (Node's lookup without `NODE_PATH`, which ES imports ignore and package
 * managers' bin shims set), or `undefined` when it is not installed there.
 */
export function findNativePackage(
  name: NativePackageName,
  from: string = process.cwd(),
): NativePackage | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const manifestPath = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifestPath)) return describePackage(name, realpathSync(dirname(manifestPath)));
    if (dirname(dir) === dir) return undefined;
  }
}

/** The file `import`ing the package loads (its `main`), as an absolute path. */
export function entryOf(pkg: NativePackage): string {
  return createRequire(join(pkg.dir, 'package.json')).resolve(pkg.dir);
}

function describePackage(name: NativePackageName, dir: string): NativePackage {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    version: string;
    binary: BinaryField;
  };
  return { name, dir, version: manifest.version, bindingPath: bindingPathOf(dir, manifest.binary) };
}

/** Whether the package's addon file exists (its loader fails without it). */
export function isAddonBuilt(pkg: NativePackage): boolean {
  return existsSync(pkg.bindingPath);
}

/**
 * The path node-pre-gyp's `find` gives the package's loader: `module_path` with
 * `{napi_build_version}` the highest of `napi_versions` that this Node supports.
 */
function bindingPathOf(dir: string, binary: BinaryField): string {
  const supported = Number(process.versions.napi);
  const napi = Math.max(...(binary.napi_versions ?? []).filter((v) => v <= supported));
  const modulePath = binary.module_path.replace('{napi_build_version}', String(napi));
  return join(dir, modulePath, `${binary.module_name}.node`);
}
