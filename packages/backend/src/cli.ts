#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { OnerunError } from '@onerun/core';
import { buildNative } from './native/build-native.js';
import { WheelUnavailableError } from './native/errors.js';
import { NATIVE_PACKAGES, type NativePackageName } from './native/packages.js';
import { DEFAULT_TENSORFLOW_VERSION } from './native/wheel.js';

const USAGE = `Usage: onerun-backend build-native [options]

Builds @tensorflow/tfjs-node (or -gpu) against an official TensorFlow wheel, offline from
anything but pip: stages the wheel's libtensorflow and headers into the package, builds its
addon from source and checks it against the cpu backend. Safe to rerun (done steps are skipped).

Options:
  --from <dir>         the application's folder (default: the working directory)
  --package <name>     tfjs-node or tfjs-node-gpu (default: every one installed)
  --wheel <file>       a TensorFlow .whl to use instead of pip download
  --tensorflow <ver>   TensorFlow version pip downloads (default ${DEFAULT_TENSORFLOW_VERSION})
  --cache-dir <dir>    where pip downloads wheels (default <from>/node_modules/.cache/onerun-native)
  --nodedir <dir>      folder holding include/node/node_api.h (default: Node's own prefix)
  --force              rebuild the addon even if it is up to date
  --json               print the result as JSON on stdout

Exit codes: 0 built and checked; 3 no TensorFlow wheel could be obtained (no Python/pip, pip
failed, bad --wheel); 2 any other build error (message says which step); 1 an unexpected failure.
`;

/** 3 when no wheel could be had (CI skips the native pass then), 2 other build errors, 1 bugs. */
function exitCodeOf(error: unknown): number {
  if (error instanceof WheelUnavailableError) return 3;
  return error instanceof OnerunError ? 2 : 1;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      package: { type: 'string', multiple: true },
      wheel: { type: 'string' },
      tensorflow: { type: 'string' },
      'cache-dir': { type: 'string' },
      nodedir: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals[0] !== 'build-native' || positionals.length !== 1) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const packages = values.package?.map((name) => {
    const full = (name.startsWith('@') ? name : `@tensorflow/${name}`) as NativePackageName;
    if (!(full in NATIVE_PACKAGES)) {
      throw new OnerunError(
        'USAGE',
        `Unknown --package '${name}'; expected tfjs-node or tfjs-node-gpu.`,
      );
    }
    return full;
  });
  const results = await buildNative({
    ...(values.from !== undefined ? { from: values.from } : {}),
    ...(packages !== undefined ? { packages } : {}),
    ...(values.wheel !== undefined ? { wheel: values.wheel } : {}),
    ...(values.tensorflow !== undefined ? { tensorflowVersion: values.tensorflow } : {}),
    ...(values['cache-dir'] !== undefined ? { cacheDir: values['cache-dir'] } : {}),
    ...(values.nodedir !== undefined ? { nodedir: values.nodedir } : {}),
    ...(values.force ? { force: true } : {}),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof OnerunError) process.stderr.write(`error: ${error.message}\n`);
    else
      process.stderr.write(
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    process.exitCode = exitCodeOf(error);
  },
);
