// Paired per-seed statistics: Student's t interval and the exact sign test.

/** Mean of `xs` (NaN when empty). */
export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1; NaN for fewer than two values). */
export function sd(xs: readonly number[]): number {
  if (xs.length < 2) return Number.NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** ln Γ(x), Lanczos (g = 7, n = 9): 15 digits for x > 0. */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61503916999186, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The continued fraction of the regularized incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** I_x(a, b), the regularized incomplete beta function. */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(a, b, x)) / a
    : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function tCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The two-sided critical value of Student's t: P(|T| ≤ q) = level (bisection on the CDF). */
export function tCritical(df: number, level: number): number {
  if (!(df >= 1)) return Number.NaN;
  const target = 1 - (1 - level) / 2;
  let lo = 0;
  let hi = 1;
  while (tCdf(hi, df) < target) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Half-width of the t-interval of the mean of `xs` at `level` (NaN for fewer than two). */
export function halfWidth(xs: readonly number[], level = 0.95): number {
  const n = xs.length;
  return n > 1 ? (tCritical(n - 1, level) * sd(xs)) / Math.sqrt(n) : Number.NaN;
}

/** Summary of paired differences. */
export interface PairedStats {
  n: number;
  mean: number;
  sd: number;
  /** The t-interval of the mean at 95%. */
  ci95: [number, number];
  /** Seeds with d < 0 and with d > 0 (ties count in neither). */
  negative: number;
  positive: number;
}

/** Mean, SD, 95% t-interval and sign counts of the differences `ds`. */
export function paired(ds: readonly number[]): PairedStats {
  const m = mean(ds);
  const h = halfWidth(ds, 0.95);
  return {
    n: ds.length,
    mean: m,
    sd: sd(ds),
    ci95: [m - h, m + h],
    negative: ds.filter((d) => d < 0).length,
    positive: ds.filter((d) => d > 0).length,
  };
}

/** The t-interval of the mean of `ds` at `level`. */
export function tInterval(ds: readonly number[], level: number): [number, number] {
  const m = mean(ds);
  const h = halfWidth(ds, level);
  return [m - h, m + h];
}

/** P(X ≥ k) for X ~ Binomial(n, 1/2): the one-sided p-value of the sign test. */
export function signTestP(k: number, n: number): number {
  let p = 0;
  let term = 0.5 ** n; // C(n, 0) / 2^n
  for (let j = 0; j <= n; j++) {
    if (j >= k) p += term;
    term = (term * (n - j)) / (j + 1);
  }
  return Math.min(1, p);
}
