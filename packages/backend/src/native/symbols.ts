import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportedSymbols } from './elf.js';
import { MissingSymbolsError } from './errors.js';

const CALLED = /\b(TFE?_[A-Za-z0-9_]+)\s*\(/g;
const DECLARED = /TF_CAPI_EXPORT\s+extern\s+[^;(]*?\b(TFE?_[A-Za-z0-9_]+)\s*\(/g;

/**
 * The TensorFlow C API functions tfjs-node's binding calls: every `TF_*` / `TFE_*` name called in
 * the package's `binding/` sources that the C headers declare as exported. Names the binding
 * defines itself (`TFE_AutoOp`) or that the headers define inline (`TF_TString_*`) drop out.
 */
export async function requiredSymbols(bindingDir: string, includeDir: string): Promise<string[]> {
  const called = new Set<string>();
  for (const text of await readAll(bindingDir, /\.(cc|h)$/)) {
    for (const m of text.matchAll(CALLED)) called.add(m[1]!);
  }
  const declared = new Set<string>();
  for (const text of await readAll(join(includeDir, 'tensorflow', 'c'), /\.h$/)) {
    for (const m of text.matchAll(DECLARED)) declared.add(m[1]!);
  }
  return [...called].filter((name) => declared.has(name)).sort();
}

/**
 * Checks that the libraries the addon links against export, between them, every function in
 * `required` (TensorFlow 2.21 keeps `TF_NewStatus`, `TF_NewTensor`… in the framework library, the
 * eager API in `libtensorflow_cc`); throws `MissingSymbolsError` naming the ones missing.
 */
export async function verifySymbols(libraries: string[], required: string[]): Promise<void> {
  const exported = new Set<string>();
  for (const library of libraries) {
    for (const name of await exportedSymbols(library)) exported.add(name);
  }
  const missing = required.filter((name) => !exported.has(name));
  if (missing.length > 0) throw new MissingSymbolsError(libraries.join(' and '), missing);
}

async function readAll(dir: string, pattern: RegExp): Promise<string[]> {
  const files = (await readdir(dir, { recursive: true })).filter((name) => pattern.test(name));
  return Promise.all(files.map((name) => readFile(join(dir, name), 'utf8')));
}
