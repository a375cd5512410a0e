import { fileURLToPath } from 'node:url';

/**
 * The app's own folder (`apps/trainer`): this module sits one level below it both as source
 * (`src/`) and built (`dist/`). The embedded data and the native tfjs packages are found from
 * here, whatever the working directory is.
 */
export function appDir(): string {
  return fileURLToPath(new URL('..', import.meta.url));
}
