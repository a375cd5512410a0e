import { version_core } from '@tensorflow/tfjs-core';
import { version_layers } from '@tensorflow/tfjs-layers';
import { UntestedTfjsVersionError } from '../errors.js';

/** The tfjs release line the fused training paths were tested with. */
export const TESTED_TFJS = '4.22.x';

/** Versions of the two tfjs packages whose internals the fused paths rely on. */
export interface TfjsVersions {
  core: string;
  layers: string;
}

/** The versions loaded in this process. */
export function loadedTfjsVersions(): TfjsVersions {
  return { core: version_core, layers: version_layers };
}

/** Throws `UntestedTfjsVersionError` unless both packages are of the {@link TESTED_TFJS} line. */
export function assertTestedTfjs(versions: TfjsVersions): void {
  const line = TESTED_TFJS.replace('.x', '.');
  for (const [name, version] of [
    ['@tensorflow/tfjs-core', versions.core],
    ['@tensorflow/tfjs-layers', versions.layers],
  ] as const) {
    if (!version.startsWith(line)) throw new UntestedTfjsVersionError(name, version, TESTED_TFJS);
  }
}
