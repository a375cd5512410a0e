import { existsSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureFreeSpace } from './disk.js';
import { WheelUnavailableError } from './errors.js';
import { findTool, run } from './process.js';

/** The TensorFlow release whose wheel `buildNative` uses unless told otherwise. */
export const DEFAULT_TENSORFLOW_VERSION = '2.21.0';

/** Room a downloaded wheel needs (the tensorflow-cpu 2.21.0 wheel is 261 MiB). */
const WHEEL_BYTES = 300 * 2 ** 20;

/** Where a wheel comes from: a file the user gave, or pip (by name and version). */
interface WheelRequest {
  /** A `.whl` file to use as is. */
  path?: string;
  /** The PyPI project: `tensorflow-cpu` (tfjs-node) or `tensorflow` (tfjs-node-gpu). */
  project: string;
  version: string;
  /** Folder pip downloads into; a wheel already there is reused. */
  cacheDir: string;
  log: (line: string) => void;
}

/**
 * The path of a TensorFlow wheel: `request.path` if given, else one already in the cache folder,
 * else one `pip download --no-deps` fetches (through the user's pip configuration, so a local
 * mirror works). Throws `WheelUnavailableError` or `ToolMissingError` (no Python / pip).
 */
export async function obtainWheel(request: WheelRequest): Promise<string> {
  if (request.path !== undefined) {
    const path = resolve(request.path);
    if (!existsSync(path) || !(await stat(path)).isFile()) {
      throw new WheelUnavailableError(`--wheel ${path} does not exist; expected a .whl file`);
    }
    if (!/^tensorflow[^/]*\.whl$/.test(path.split('/').at(-1) ?? '')) {
      throw new WheelUnavailableError(
        `--wheel ${path} is not a TensorFlow wheel; expected a file named tensorflow*-<version>-*.whl`,
      );
    }
    return path;
  }
  const cached = await cachedWheel(request);
  if (cached !== undefined) {
    request.log(`wheel: reusing ${cached}`);
    return cached;
  }
  const python = findTool(['python3', 'python']);
  if (python === undefined) {
    throw new WheelUnavailableError(
      `no Python found to download ${request.project}==${request.version} with pip; install python3 ` +
        'with pip, or pass --wheel with a TensorFlow wheel downloaded elsewhere',
    );
  }
  const pipCheck = await run(python, ['-m', 'pip', '--version'], { quiet: true });
  if (pipCheck.code !== 0) {
    throw new WheelUnavailableError(
      `${python} has no pip (\`${python} -m pip --version\` failed) to download ${request.project}==${request.version}; ` +
        'install pip (Debian: apt-get install python3-pip), or pass --wheel',
    );
  }
  await mkdir(request.cacheDir, { recursive: true });
  await ensureFreeSpace(request.cacheDir, WHEEL_BYTES, 'downloading the TensorFlow wheel');
  const spec = `${request.project}==${request.version}`;
  request.log(`wheel: pip download ${spec} (about 270 MB) into ${request.cacheDir}`);
  const base = [
    '-m',
    'pip',
    'download',
    '--no-deps',
    '--disable-pip-version-check',
    '-d',
    request.cacheDir,
  ];
  let result = await run(python, [...base, spec], { quiet: true });
  if (result.code !== 0) {
    // This Python may have no wheel of its own (too new): the library inside is the same for
    // every Python version, so ask for the CPython 3.11 build.
    const tags = [
      '--only-binary=:all:',
      '--python-version',
      '3.11',
      '--platform',
      'manylinux_2_27_x86_64',
    ];
    result = await run(python, [...base, ...tags, spec], { quiet: true });
  }
  const downloaded = await cachedWheel(request);
  if (result.code !== 0 || downloaded === undefined) {
    throw new WheelUnavailableError(
      `pip could not download ${spec}: ${result.output.trim().split('\n').slice(-3).join(' / ')}; ` +
        "check pip's index (pip config list), or pass --wheel with a wheel downloaded elsewhere",
    );
  }
  return downloaded;
}

async function cachedWheel(request: WheelRequest): Promise<string | undefined> {
  if (!existsSync(request.cacheDir)) return undefined;
  const prefix = `${request.project.replace(/-/g, '_')}-${request.version}-`;
  const name = (await readdir(request.cacheDir)).find(
    (f) => f.startsWith(prefix) && f.endsWith('.whl'),
  );
  return name === undefined ? undefined : join(request.cacheDir, name);
}
