import { NativeCheckFailedError } from './errors.js';
import type { NativePackage } from './packages.js';
import { run, tail } from './process.js';

/** What the op check measured in a fresh process with the addon loaded. */
export interface NativeCheckResult {
  /** `tf.getBackend()` after loading the package: `'tensorflow'`. */
  backend: string;
  /** `TF_Version()` of the loaded library, e.g. `'2.21.0'`. */
  tensorflowVersion: string;
  /** Each op's largest |native − cpu| relative to max(1, max |cpu|). */
  ops: { op: string; error: number }[];
  /** Seconds from `require` to a ready backend. */
  loadSeconds: number;
}

/** Largest relative disagreement with the cpu backend accepted for float32 ops. */
export const OP_TOLERANCE = 1e-4;

// Run with `node --input-type=module -e`, argv[1] = the package folder. Inputs come from a fixed
// generator so both backends see the same numbers; each op runs on 'tensorflow' and on 'cpu'.
const CHECK_SCRIPT = `
import { createRequire } from 'node:module';
import { join } from 'node:path';
const dir = process.argv[1];
const started = performance.now();
const tf = createRequire(join(dir, 'package.json'))(dir);
await tf.setBackend('tensorflow');
await tf.ready();
const loadSeconds = (performance.now() - started) / 1000;
let seed = 12345;
const values = (n) => Float32Array.from({ length: n }, () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648 * 2 - 1;
});
const x = () => tf.tensor4d(values(2 * 8 * 8 * 3), [2, 8, 8, 3]);
const w = () => tf.tensor4d(values(3 * 3 * 3 * 4), [3, 3, 3, 4]);
const a = () => tf.tensor2d(values(6 * 5), [6, 5]);
const b = () => tf.tensor2d(values(5 * 4), [5, 4]);
const convLoss = (xs, ws) => tf.conv2d(xs, ws, 1, 'same').relu().square().sum();
const ops = {
  matMul: () => tf.matMul(a(), b()),
  matMulTransposed: () => tf.matMul(a(), b().transpose(), false, true),
  conv2d: () => tf.conv2d(x(), w(), [2, 1], 'same'),
  conv2dGradInput: () => tf.grad((xs) => convLoss(xs, w()))(x()),
  conv2dGradFilter: () => tf.grad((ws) => convLoss(x(), ws))(w()),
  depthwiseConv2d: () => tf.depthwiseConv2d(x(), tf.tensor4d(values(27), [3, 3, 3, 1]), 1, 'valid'),
  maxPool: () => tf.maxPool(x(), 2, 2, 'valid'),
  avgPool: () => tf.avgPool(x(), 2, 2, 'same'),
  batchNorm: () => tf.batchNorm(x(), tf.tensor1d([0.1, -0.2, 0.3]), tf.tensor1d([1, 2, 0.5]), tf.tensor1d([0, 1, -1]), tf.tensor1d([1, 0.5, 2]), 1e-3),
  softmax: () => tf.softmax(a()),
  logSumExp: () => tf.logSumExp(a(), 1),
  elementwise: () => a().exp().add(a().abs().log1p()).sub(a().tanh()).mul(a().sigmoid()).div(2),
  reduce: () => tf.stack([x().sum([0, 1, 2]), x().mean([0, 1, 2]), x().max([0, 1, 2])]),
  gatherSlice: () => tf.gather(a(), [4, 0, 2]).slice([0, 1], [3, 3]).concat(a().slice([0, 0], [3, 3]), 0),
};
const out = [];
for (const [op, f] of Object.entries(ops)) {
  const results = [];
  for (const backend of ['tensorflow', 'cpu']) {
    await tf.setBackend(backend);
    seed = 12345;
    results.push(await tf.tidy(f).data());
  }
  const [native, cpu] = results;
  let scale = 1;
  let diff = 0;
  for (let i = 0; i < cpu.length; i++) {
    scale = Math.max(scale, Math.abs(cpu[i]));
    diff = Math.max(diff, Math.abs(native[i] - cpu[i]));
  }
  out.push({ op, error: native.length === cpu.length ? diff / scale : Number.POSITIVE_INFINITY });
}
await tf.setBackend('tensorflow');
const binding = tf.backend().binding;
console.log(JSON.stringify({ backend: tf.getBackend(), tensorflowVersion: binding.TF_Version, ops: out, loadSeconds }));
`;

/**
 * Loads the package in a child process (never next to another libtensorflow), runs a set of ops
 * (convolutions and their gradients, pooling, batch norm, matrix products, reductions, element-wise
 * maths) on its `tensorflow` backend and on the cpu backend, and throws `NativeCheckFailedError`
 * unless it loads and every op agrees to {@link OP_TOLERANCE}.
 */
export async function checkNativeAddon(pkg: NativePackage): Promise<NativeCheckResult> {
  const env = { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' };
  const result = await run(process.execPath, ['--input-type=module', '-e', CHECK_SCRIPT, pkg.dir], {
    env,
    quiet: true,
  });
  const line = result.output.trimEnd().split('\n').at(-1) ?? '';
  let parsed: NativeCheckResult | undefined;
  try {
    parsed = JSON.parse(line) as NativeCheckResult;
  } catch {}
  if (result.code !== 0 || parsed === undefined) {
    throw new NativeCheckFailedError(
      `${pkg.name} did not load in a fresh Node process:\n${tail(result.output)}`,
    );
  }
  if (parsed.backend !== 'tensorflow') {
    throw new NativeCheckFailedError(
      `${pkg.name} loaded, but the active backend is '${parsed.backend}'; expected 'tensorflow'`,
    );
  }
  const bad = parsed.ops.filter((o) => !(o.error <= OP_TOLERANCE));
  if (bad.length > 0) {
    throw new NativeCheckFailedError(
      `${pkg.name}'s ops disagree with the cpu backend beyond ${OP_TOLERANCE}: ${bad.map((o) => `${o.op} ${o.error}`).join(', ')}`,
    );
  }
  return parsed;
}
