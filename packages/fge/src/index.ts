export { bezierCoefficients, polyChainCoefficients } from './coefficients.js';
export {
  type BendsInit,
  bezierCurve,
  type Curve,
  type CurveKind,
  polyChainCurve,
  straightLine,
} from './curve.js';
export { CurveDisposedError, CurveFormatError } from './errors.js';
