import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../select.js';
import {
  expectKernelMatchesCpu,
  type HostTensor,
  pick,
  randInt,
  randomTensor,
  runOn,
  seededRandom,
} from './testing.js';

// Property tests: random shapes, strides, dilations and paddings; every kernel this package
// installs on wasm must agree with tfjs's pure-JS cpu backend within 1e-4 (relative to scale).

beforeAll(async () => {
  await selectBackend('wasm');
  await tf.setBackend('cpu');
});
describe('MaxPoolGrad on wasm', () => {
  it('sends each gradient to the first maximum of its window, as the cpu backend does (many ties)', async () => {
    const rand = seededRandom(31);
    for (let t = 0; t < 25; t++) {
      const shape = [
        randInt(rand, 1, 2),
        randInt(rand, 1, 8),
        randInt(rand, 1, 8),
        randInt(rand, 1, 3),
      ];
      const filterSize: [number, number] = [randInt(rand, 1, 3), randInt(rand, 1, 3)];
      const strides: [number, number] = [randInt(rand, 1, 3), randInt(rand, 1, 3)];
      const pad = pick(rand, ['same', 'valid'] as const);
      let info: ReturnType<typeof tf.backend_util.computePool2DInfo>;
      try {
        info = tf.backend_util.computePool2DInfo(
          shape as [number, number, number, number],
          filterSize,
          strides,
          1,
          pad,
        );
      } catch {
        continue;
      }
      if (info.outHeight < 1 || info.outWidth < 1) continue;
      const input = randomTensor(rand, shape, 3);
      const dy = randomTensor(rand, info.outShape);
      const output = await runOn('cpu', 'MaxPool', { x: input }, { filterSize, strides, pad });
      const out: HostTensor = { values: output.values, shape: output.shape, dtype: 'float32' };
      await expectKernelMatchesCpu(
        'MaxPoolGrad',
        { dy, input, output: out },
        { filterSize, strides, pad },
        JSON.stringify({ shape, filterSize, strides, pad }),
      );
    }
  });
});

describe('Tile, Sum, Mean on wasm', () => {
  it('Tile matches the cpu backend for random ranks, reps and dtypes', async () => {
    const rand = seededRandom(41);
    for (let t = 0; t < 25; t++) {
      const rank = randInt(rand, 1, 4);
      const shape = Array.from({ length: rank }, () => randInt(rand, 1, 4));
      const reps = Array.from({ length: rank }, () => randInt(rand, 1, 4));
      const x = randomTensor(rand, shape, 5);
      const dtype = pick(rand, ['float32', 'int32', 'bool'] as const);
      const host: HostTensor =
        dtype === 'float32'
          ? x
          : {
              ...x,
              dtype,
              values:
                dtype === 'int32'
                  ? Int32Array.from(x.values)
                  : Uint8Array.from(x.values, (v) => (v > 0 ? 1 : 0)),
            };
      await expectKernelMatchesCpu(
        'Tile',
        { x: host },
        { reps },
        JSON.stringify({ shape, reps, dtype }),
      );
    }
  });

  it('Sum and Mean match the cpu backend over random axes (leading, middle, trailing, scattered)', async () => {
    const rand = seededRandom(42);
    for (let t = 0; t < 40; t++) {
      const rank = randInt(rand, 1, 4);
      const shape = Array.from({ length: rank }, () => randInt(rand, 1, 6));
      const axis = Array.from({ length: rank }, (_, i) => i).filter(() => rand() < 0.6);
      const keepDims = rand() < 0.5;
      const x = randomTensor(rand, shape);
      const what = JSON.stringify({ shape, axis, keepDims });
      await expectKernelMatchesCpu('Sum', { x }, { axis, keepDims }, what);
      await expectKernelMatchesCpu('Mean', { x }, { axis, keepDims }, what);
      const xi: HostTensor = {
        ...x,
        dtype: 'int32',
        values: Int32Array.from(x.values, (v) => Math.round(v * 100)),
      };
      await expectKernelMatchesCpu('Sum', { x: xi }, { axis, keepDims }, `int32 ${what}`);
    }
  });
});

describe('BatchMatMul / _FusedMatMul / UnsortedSegmentSum on wasm', () => {
  it('transposed products match the cpu backend', async () => {
    const rand = seededRandom(51);
    for (let t = 0; t < 20; t++) {
      const [m, k, n] = [randInt(rand, 1, 7), randInt(rand, 1, 7), randInt(rand, 1, 7)];
      const transposeA = rand() < 0.5;
      const transposeB = rand() < 0.5;
      const batch = pick(rand, [[], [1], [2]] as const);
      const a = randomTensor(rand, [...batch, ...(transposeA ? [k, m] : [m, k])]);
      const b = randomTensor(rand, [...batch, ...(transposeB ? [n, k] : [k, n])]);
      const what = JSON.stringify({ m, k, n, transposeA, transposeB, batch });
      await expectKernelMatchesCpu('BatchMatMul', { a, b }, { transposeA, transposeB }, what);
      if (batch.length === 1) {
        // tfjs's fused matMul op always hands the kernel rank-3 operands.
        const bias = randomTensor(rand, [n]);
        const activation = pick(rand, ['linear', 'relu', 'leakyrelu', 'sigmoid'] as const);
        const attrs = { transposeA, transposeB, activation, leakyreluAlpha: 0.2 };
        await expectKernelMatchesCpu(
          '_FusedMatMul',
          { a, b, bias },
          attrs,
          `${what} ${activation}`,
        );
        // The stock kernel's scalar path mis-broadcasts the bias over batches; ours does not.
        const a2 = randomTensor(rand, [2, ...a.shape.slice(1)]);
        const b2 = randomTensor(rand, [2, ...b.shape.slice(1)]);
        await expectKernelMatchesCpu(
          '_FusedMatMul',
          { a: a2, b: b2, bias },
          attrs,
          `batch 2 ${what} ${activation}`,
        );
      }
    }
  });

  it('UnsortedSegmentSum matches the cpu backend (ids out of range are dropped)', async () => {
    const rand = seededRandom(52);
    for (let t = 0; t < 15; t++) {
      const rows = randInt(rand, 1, 8);
      const inner = Array.from({ length: randInt(rand, 0, 2) }, () => randInt(rand, 1, 3));
      const numSegments = randInt(rand, 1, 5);
      const x = randomTensor(rand, [rows, ...inner]);
      const segmentIds: HostTensor = {
        values: Int32Array.from({ length: rows }, () => randInt(rand, 0, numSegments - 1)),
        shape: [rows],
        dtype: 'int32',
      };
      await expectKernelMatchesCpu(
        'UnsortedSegmentSum',
        { x, segmentIds },
        { numSegments },
        JSON.stringify({ rows, inner, numSegments }),
      );
    }
    const x = randomTensor(rand, [3, 2]);
    const ids: HostTensor = { values: Int32Array.from([0, 5, -1]), shape: [3], dtype: 'int32' };
    const out = await runOn(
      'wasm',
      'UnsortedSegmentSum',
      { x, segmentIds: ids },
      { numSegments: 2 },
    );
    expect(Array.from(out.values)).toEqual([x.values[0], x.values[1], 0, 0]);
  });
});

describe('FusedBatchNorm and Identity on wasm', () => {
  it('FusedBatchNorm matches the cpu backend, with and without offset and scale', async () => {
    const rand = seededRandom(61);
    for (let t = 0; t < 12; t++) {
      const shape = [
        randInt(rand, 1, 3),
        randInt(rand, 1, 5),
        randInt(rand, 1, 5),
        randInt(rand, 1, 4),
      ];
      const c = shape[3] as number;
      const x = randomTensor(rand, shape);
      const mean = randomTensor(rand, [c]);
      const variance: HostTensor = {
        ...randomTensor(rand, [c]),
        values: Float32Array.from({ length: c }, () => 0.1 + rand()),
      };
      const inputs: Record<string, HostTensor> = { x, mean, variance };
      if (rand() < 0.7) inputs.offset = randomTensor(rand, [c]);
      if (rand() < 0.7) inputs.scale = randomTensor(rand, [c]);
      await expectKernelMatchesCpu(
        'FusedBatchNorm',
        inputs,
        { varianceEpsilon: 1e-3 },
        JSON.stringify({ shape, has: Object.keys(inputs) }),
      );
    }
  });

  it('a clone shares the buffer and survives the original being disposed', async () => {
    await tf.setBackend('wasm');
    const wasm = tf.backend() as unknown as { numDataIds(): number };
    const before = wasm.numDataIds();
    const a = tf.tensor([1, 2, 3]);
    const b = tf.clone(a);
    expect(wasm.numDataIds()).toBe(before + 1);
    a.dispose();
    expect(Array.from(await b.data())).toEqual([1, 2, 3]);
    b.dispose();
    expect(wasm.numDataIds()).toBe(before);
    await tf.setBackend('cpu');
  });
});
