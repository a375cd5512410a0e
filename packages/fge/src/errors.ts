import { OnerunError } from '@onerun/core';

/** A curve was used after `dispose()`. */
export class CurveDisposedError extends OnerunError {
  constructor(name: string) {
    super('CURVE_DISPOSED', `The curve ${name} was used after dispose(); expected a live curve.`);
  }
}

/** Stored curve data is missing, of an unknown format, or does not match its manifest. */
export class CurveFormatError extends OnerunError {
  constructor(message: string) {
    super('CURVE_FORMAT', message);
  }
}
