import { OnerunError } from '@onerun/core';

/** Stored curve data is missing, of an unknown format, or does not match its manifest. */
export class CurveFormatError extends OnerunError {
  constructor(message: string) {
    super('CURVE_FORMAT', message);
  }
}
