import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CommandFailedError, NodeHeadersMissingError, ToolMissingError } from './errors.js';
import type { NativePackage } from './packages.js';
import { findTool, run, tail } from './process.js';

/** The tools node-gyp compiles the addon with, found on this machine. */
interface Toolchain {
  /** Folder holding `include/node/node_api.h` (node-gyp's `--nodedir`). */
  nodedir: string;
  /** node-gyp's `bin/node-gyp.js`. */
  nodeGyp: string;
  python: string;
}

/**
 * Finds the Node headers, node-gyp, Python, make and a C++ compiler; throws a typed error
 * naming the first one missing. `nodedir` overrides where the headers are looked for.
 */
export function findToolchain(packageDir: string, nodedir?: string): Toolchain {
  const python = findTool(['python3', 'python']);
  if (python === undefined) {
    throw new ToolMissingError(
      'python3',
      'by node-gyp to build the addon',
      'install python3 (Debian: apt-get install python3)',
    );
  }
  if (process.env.CXX === undefined && findTool(['c++', 'g++', 'clang++']) === undefined) {
    throw new ToolMissingError(
      'a C++ compiler (c++, g++ or clang++)',
      'to compile the addon',
      'install one (Debian: apt-get install g++), or set CXX',
    );
  }
  if (findTool(['make']) === undefined) {
    throw new ToolMissingError(
      'make',
      'by node-gyp to build the addon',
      'install it (Debian: apt-get install make)',
    );
  }
  const candidates = [
    nodedir,
    process.env.npm_config_nodedir,
    // Node's own prefix: /usr for Debian's nodejs, the unpacked folder of an official tarball.
    dirname(dirname(process.execPath)),
  ].filter((d): d is string => d !== undefined && d !== '');
  const headers = candidates
    .map((d) => resolve(d))
    .find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
  if (headers === undefined) throw new NodeHeadersMissingError(candidates);
  const nodeGyp = findNodeGyp(packageDir);
  if (nodeGyp === undefined) {
    throw new ToolMissingError(
      'node-gyp',
      'to build the addon',
      'install it (`npm install -g node-gyp`) or set npm_config_node_gyp to its bin/node-gyp.js',
    );
  }
  return { nodedir: headers, nodeGyp, python };
}

function findNodeGyp(packageDir: string): string | undefined {
  const fromEnv = process.env.npm_config_node_gyp;
  if (fromEnv !== undefined && existsSync(fromEnv)) return fromEnv;
  try {
    const main = createRequire(join(packageDir, 'package.json')).resolve('node-gyp');
    return join(dirname(dirname(main)), 'bin', 'node-gyp.js');
  } catch {}
  // The copy npm bundles, beside this Node (…/bin/node → …/lib/node_modules/npm/…).
  const bundled = join(
    dirname(dirname(process.execPath)),
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  );
  return existsSync(bundled) ? bundled : undefined;
}

/**
 * Builds the addon with the package's own node-pre-gyp (`install --build-from-source`, which runs
 * node-gyp against the staged `deps/`), using the local Node headers so nothing is downloaded.
 */
export async function compileAddon(
  pkg: NativePackage,
  toolchain: Toolchain,
  log: (line: string) => void,
): Promise<void> {
  const preGyp = createRequire(join(pkg.dir, 'package.json')).resolve(
    '@mapbox/node-pre-gyp/bin/node-pre-gyp',
  );
  log(
    `build: node-pre-gyp install --build-from-source in ${pkg.dir} (Node headers from ${toolchain.nodedir})`,
  );
  const env = {
    ...process.env,
    npm_config_nodedir: toolchain.nodedir,
    npm_config_node_gyp: toolchain.nodeGyp,
    npm_config_python: toolchain.python,
    npm_config_jobs: String(availableParallelism()),
  };
  const result = await run(process.execPath, [preGyp, 'install', '--build-from-source'], {
    cwd: pkg.dir,
    env,
    quiet: true,
  });
  if (result.code !== 0 || !existsSync(pkg.bindingPath)) {
    throw new CommandFailedError(
      'build',
      'node-pre-gyp install --build-from-source',
      result.code,
      tail(result.output),
    );
  }
}
