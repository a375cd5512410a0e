import { realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../errors.js';
import { selectBackend } from '../select.js';
import { buildNative } from './build-native.js';
import { exportedSymbols } from './elf.js';
import {
  MissingSymbolsError,
  NativePackageNotFoundError,
  WheelUnavailableError,
} from './errors.js';
import { BUILD_NATIVE_COMMAND, findNativePackage } from './packages.js';
import { requiredSymbols, verifySymbols } from './symbols.js';
import { zipOf } from './testing.js';
import { extractZipEntry, listZip } from './zip.js';

const root = await mkdtemp(join(tmpdir(), 'onerun-native-unit-'));
afterAll(() => rm(root, { recursive: true, force: true }));
const trainerApp = fileURLToPath(new URL('../../../../apps/trainer/', import.meta.url));
const quiet = () => {};

/** An application folder with a tfjs-node package installed but no addon built. */
async function appWithUnbuiltTfjsNode(): Promise<string> {
  const app = await mkdtemp(join(root, 'app-'));
  const pkg = join(app, 'node_modules', '@tensorflow', 'tfjs-node');
  await mkdir(pkg, { recursive: true });
  const binary = {
    module_name: 'tfjs_binding',
    module_path: './lib/napi-v{napi_build_version}',
    napi_versions: [3, 4, 5, 6, 7, 8],
  };
  const manifest = { name: '@tensorflow/tfjs-node', version: '4.22.0', main: 'index.js', binary };
  await writeFile(join(pkg, 'package.json'), JSON.stringify(manifest));
  await writeFile(
    join(pkg, 'index.js'),
    'throw new Error("must not be imported without its addon");',
  );
  return app;
}

describe('zip reader', () => {
  it('lists and extracts stored and deflated entries byte for byte', async () => {
    const big = Buffer.alloc(300_000, 7);
    big.write('tail', 299_990);
    for (const deflate of [true, false]) {
      const path = join(root, `archive-${deflate}.zip`);
      await writeFile(path, zipOf({ 'a/b.txt': 'hello', 'lib/big.so': big }, deflate));
      const entries = await listZip(path);
      expect(entries.map((e) => [e.name, e.size])).toEqual([
        ['a/b.txt', 5],
        ['lib/big.so', 300_000],
      ]);
      await extractZipEntry(path, entries[1]!, join(root, `out-${deflate}`, 'big.so'));
      expect((await readFile(join(root, `out-${deflate}`, 'big.so'))).equals(big)).toBe(true);
    }
  });

  it('rejects a corrupt entry and leaves no file behind', async () => {
    const path = join(root, 'corrupt.zip');
    const bytes = zipOf({ 'x.txt': 'abcdefgh' }, false);
    bytes[30 + 'x.txt'.length] = 'z'.charCodeAt(0); // first data byte
    await writeFile(path, bytes);
    const [entry] = await listZip(path);
    const failure = extractZipEntry(path, entry!, join(root, 'corrupt', 'x.txt'));
    await expect(failure).rejects.toThrow(/CRC-32 mismatch.*download it anew/);
    await expect(failure).rejects.toMatchObject({ code: 'NATIVE_BAD_WHEEL', step: 'stage' });
    await expect(readFile(join(root, 'corrupt', 'x.txt'))).rejects.toThrow();
  });
});

describe('ELF dynamic symbols', () => {
  it("lists what a library defines (node's N-API), not what it imports (malloc)", async () => {
    const symbols = await exportedSymbols(realpathSync(process.execPath));
    expect(symbols.has('napi_create_function')).toBe(true);
    expect(symbols.has('napi_get_cb_info')).toBe(true);
    expect(symbols.has('malloc')).toBe(false);
  });

  it('throws for a file that is not ELF', async () => {
    const failure = exportedSymbols(join(root, 'archive-true.zip'));
    await expect(failure).rejects.toThrow(/not an ELF/);
    await expect(failure).rejects.toMatchObject({ code: 'NATIVE_BAD_LIBRARY', step: 'verify' });
  });
});

describe('symbols the binding needs', () => {
  it('keeps the called functions the headers export, not inline or binding-local ones', async () => {
    const binding = join(root, 'binding');
    const include = join(root, 'include', 'tensorflow', 'c');
    await mkdir(binding, { recursive: true });
    await mkdir(include, { recursive: true });
    await writeFile(
      join(binding, 'a.cc'),
      'TF_Status* s = TF_NewStatus(); TFE_AutoOp op(TFE_NewOp(ctx, "Add", s)); TF_TString_Init(&t);',
    );
    await writeFile(
      join(include, 'c_api.h'),
      'TF_CAPI_EXPORT extern TF_Status* TF_NewStatus(void);\n' +
        'TF_CAPI_EXPORT extern TFE_Op* TFE_NewOp(TFE_Context* ctx,\n  const char* name, TF_Status* s);\n' +
        'TF_CAPI_EXPORT extern void TF_Unused(void);\n' +
        'static inline void TF_TString_Init(TF_TString *str) {}\n',
    );
    expect(await requiredSymbols(binding, join(root, 'include'))).toEqual([
      'TFE_NewOp',
      'TF_NewStatus',
    ]);
  });

  it('names the functions the libraries lack', async () => {
    const error = await verifySymbols(
      [realpathSync(process.execPath)],
      ['napi_create_function', 'TF_NewStatus', 'TFE_Execute'],
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingSymbolsError);
    expect((error as MissingSymbolsError).missing).toEqual(['TF_NewStatus', 'TFE_Execute']);
    expect((error as Error).message).toContain('TF_NewStatus, TFE_Execute');
  });
});

describe('finding the native package from the application', () => {
  it("computes the addon path tfjs-node's own loader (node-pre-gyp find) uses", () => {
    const pkg = findNativePackage('@tensorflow/tfjs-node', trainerApp);
    expect(pkg).toBeDefined();
    const preGyp = createRequire(join(pkg!.dir, 'package.json'))('@mapbox/node-pre-gyp') as {
      find(packageJson: string): string;
    };
    expect(pkg!.bindingPath).toBe(preGyp.find(join(pkg!.dir, 'package.json')));
    // The repository root does not depend on tfjs-node: it is the app's dependency.
    expect(
      findNativePackage(
        '@tensorflow/tfjs-node',
        fileURLToPath(new URL('../../../../', import.meta.url)),
      ),
    ).toBeUndefined();
  });

  it("selectBackend tells 'installed but not built' (with the command) apart from 'not installed'", async () => {
    const app = await appWithUnbuiltTfjsNode();
    const error = await selectBackend('tensorflow', { resolveFrom: app }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error).toMatchObject({ reason: 'not-built' });
    expect((error as Error).message).toContain(BUILD_NATIVE_COMMAND);
    expect((error as Error).message).toContain('tfjs_binding.node');

    const selection = await selectBackend('auto', { resolveFrom: app, registerWasmKernels: false });
    expect(selection.skipped.map((s) => [s.backend, s.reason])).toEqual([
      ['tensorflow-gpu', 'not-installed'],
      ['tensorflow', 'not-built'],
    ]);
    expect(selection.threads).toBe(1);
  });
});

describe('buildNative errors', () => {
  it('a package not installed for the application', async () => {
    const empty = await mkdtemp(join(root, 'empty-'));
    await expect(
      buildNative({ from: empty, packages: ['@tensorflow/tfjs-node'], log: quiet }),
    ).rejects.toThrow(NativePackageNotFoundError);
    await expect(buildNative({ from: empty, log: quiet })).rejects.toThrow(
      /@tensorflow\/tfjs-node or @tensorflow\/tfjs-node-gpu is not installed/,
    );
  });

  it('a --wheel that is missing, not a wheel, or lacks the libraries', async () => {
    const app = await appWithUnbuiltTfjsNode();
    const missing = join(root, 'tensorflow_cpu-2.21.0-none.whl');
    await expect(buildNative({ from: app, wheel: missing, log: quiet })).rejects.toThrow(
      new WheelUnavailableError(`--wheel ${missing} does not exist; expected a .whl file`),
    );
    const notWheel = join(root, 'archive-true.zip');
    await expect(buildNative({ from: app, wheel: notWheel, log: quiet })).rejects.toThrow(
      /is not a TensorFlow wheel/,
    );
    const empty = join(root, 'tensorflow_cpu-0.0.1-empty.whl');
    await writeFile(empty, zipOf({ 'tensorflow/__init__.py': '' }));
    await expect(buildNative({ from: app, wheel: empty, log: quiet })).rejects.toThrow(
      /has no tensorflow\/libtensorflow_cc\.so\.2/,
    );
  });

  it('pip is asked only for a wheel that is not cached (here: no Python on the PATH)', async () => {
    const app = await appWithUnbuiltTfjsNode();
    const path = process.env.PATH;
    process.env.PATH = join(root, 'nothing-here');
    try {
      await expect(
        buildNative({ from: app, cacheDir: join(root, 'cache'), log: quiet }),
      ).rejects.toThrow(/no Python found to download tensorflow-cpu==2\.21\.0/);
    } finally {
      process.env.PATH = path;
    }
  });
});
