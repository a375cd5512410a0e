import type { Random } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../select.js';
import {
  expectClose,
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

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

interface ConvCase {
  x: number[];
  filter: number[];
  strides: [number, number];
  dilations: [number, number];
  pad: Pad;
  out: number[];
}

/** A random valid NHWC convolution; `depthwise` makes filter [kh, kw, ci, multiplier]. */
function randomConv(rand: Random, depthwise: boolean, allowBoth: boolean): ConvCase {
  for (;;) {
    const n = randInt(rand, 1, 3);
    const h = randInt(rand, 1, 9);
    const w = randInt(rand, 1, 9);
    // 1–4 input channels take the im2col path of Conv2DBackpropFilter, more the convolution path.
    const ci = depthwise ? randInt(rand, 1, 4) : randInt(rand, 1, 7);
    const last = depthwise ? randInt(rand, 1, 3) : randInt(rand, 1, 5);
    const kh = randInt(rand, 1, 4);
    const kw = randInt(rand, 1, 4);
    const strides: [number, number] = [randInt(rand, 1, 3), randInt(rand, 1, 3)];
    let dilations: [number, number] = [randInt(rand, 1, 3), randInt(rand, 1, 2)];
    if (!allowBoth && (strides[0] > 1 || strides[1] > 1)) dilations = [1, 1];
    const kind = pick(rand, ['same', 'valid', 'explicit'] as const);
    const pad: Pad =
      kind === 'explicit'
        ? [
            [0, 0],
            [randInt(rand, 0, 3), randInt(rand, 0, 3)],
            [randInt(rand, 0, 3), randInt(rand, 0, 3)],
            [0, 0],
          ]
        : kind;
    let info: ReturnType<typeof tf.backend_util.computeConv2DInfo>;
    try {
      info = tf.backend_util.computeConv2DInfo(
        [n, h, w, ci],
        [kh, kw, ci, last],
        strides,
        dilations,
        pad,
        undefined,
        depthwise,
      );
    } catch {
      continue;
    }
    if (info.outHeight < 1 || info.outWidth < 1) continue;
    return {
      x: [n, h, w, ci],
      filter: [kh, kw, ci, last],
      strides,
      dilations,
      pad,
      out: info.outShape,
    };
  }
}

/** The filter with (d − 1) zeros between taps: a dilated conv is a plain conv by this filter. */
function dilateFilter(f: HostTensor, [dh, dw]: [number, number]): HostTensor {
  const [kh = 1, kw = 1, ci = 1, co = 1] = f.shape;
  const eh = (kh - 1) * dh + 1;
  const ew = (kw - 1) * dw + 1;
  const values = new Float32Array(eh * ew * ci * co);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let k = 0; k < ci * co; k++)
        values[(i * dh * ew + j * dw) * ci * co + k] = f.values[
          (i * kw + j) * ci * co + k
        ] as number;
  return { values, shape: [eh, ew, ci, co], dtype: 'float32' };
}

function undilateFilter(
  values: Float32Array,
  shape: number[],
  [dh, dw]: [number, number],
): Float32Array {
  const [kh = 1, kw = 1, ci = 1, co = 1] = shape;
  const ew = (kw - 1) * dw + 1;
  const out = new Float32Array(kh * kw * ci * co);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let k = 0; k < ci * co; k++)
        out[(i * kw + j) * ci * co + k] = values[(i * dh * ew + j * dw) * ci * co + k] as number;
  return out;
}

describe('Conv2DBackpropInput / Conv2DBackpropFilter on wasm', () => {
  it('match the cpu backend for random shapes, strides and paddings', async () => {
    const rand = seededRandom(11);
    for (let t = 0; t < 30; t++) {
      const c = randomConv(rand, false, false);
      const dilations: [number, number] = [1, 1];
      const attrs = {
        strides: c.strides,
        pad: c.pad,
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
      };
      const x = randomTensor(rand, c.x);
      const filter = randomTensor(rand, c.filter);
      const dy = randomTensor(
        rand,
        tf.backend_util.computeConv2DInfo(
          c.x as [number, number, number, number],
          c.filter as [number, number, number, number],
          c.strides,
          dilations,
          c.pad,
        ).outShape,
      );
      const what = JSON.stringify(c);
      await expectKernelMatchesCpu(
        'Conv2DBackpropInput',
        { dy, filter },
        { ...attrs, inputShape: c.x },
        what,
      );
      await expectKernelMatchesCpu(
        'Conv2DBackpropFilter',
        { x, dy },
        { ...attrs, filterShape: c.filter },
        what,
      );
    }
  });

  it('support dilations (checked against the cpu backend on the zero-dilated filter)', async () => {
    const rand = seededRandom(12);
    for (let t = 0; t < 20; t++) {
      const c = randomConv(rand, false, true);
      const attrs = {
        strides: c.strides,
        pad: c.pad,
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
      };
      const x = randomTensor(rand, c.x);
      const filter = randomTensor(rand, c.filter);
      const dy = randomTensor(rand, c.out);
      const what = JSON.stringify(c);
      const dilated = dilateFilter(filter, c.dilations);

      const dxCpu = await runOn(
        'cpu',
        'Conv2DBackpropInput',
        { dy, filter: dilated },
        { ...attrs, inputShape: c.x },
      );
      const dx = await runOn(
        'wasm',
        'Conv2DBackpropInput',
        { dy, filter },
        { ...attrs, inputShape: c.x, dilations: c.dilations },
      );
      expectClose(dx, dxCpu, `Conv2DBackpropInput dilated ${what}`);

      const dwCpu = await runOn(
        'cpu',
        'Conv2DBackpropFilter',
        { x, dy },
        { ...attrs, filterShape: dilated.shape },
      );
      const dw = await runOn(
        'wasm',
        'Conv2DBackpropFilter',
        { x, dy },
        { ...attrs, filterShape: c.filter, dilations: c.dilations },
      );
      const expected = {
        ...dwCpu,
        shape: c.filter,
        values: undilateFilter(dwCpu.values as Float32Array, c.filter, c.dilations),
      };
      expectClose(dw, expected, `Conv2DBackpropFilter dilated ${what}`);
    }
  });

  it('Conv2DBackpropFilter sums its per-chunk products correctly (70 examples: chunks of 32, 32, 6)', async () => {
    const rand = seededRandom(13);
    const x = randomTensor(rand, [70, 5, 4, 6]);
    const dy = randomTensor(rand, [70, 3, 2, 2]);
    const attrs = { strides: [1, 2], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined };
    await expectKernelMatchesCpu(
      'Conv2DBackpropFilter',
      { x, dy },
      { ...attrs, filterShape: [3, 2, 6, 2] },
      '70 examples',
    );
  });

  it('reject NCHW with a clear message', async () => {
    const dy = randomTensor(seededRandom(1), [1, 2, 3, 3]);
    const filter = randomTensor(seededRandom(2), [1, 1, 2, 2]);
    await expect(
      runOn(
        'wasm',
        'Conv2DBackpropInput',
        { dy, filter },
        { strides: 1, pad: 'valid', dataFormat: 'NCHW', inputShape: [1, 2, 3, 3] },
      ),
    ).rejects.toThrow(/Conv2DBackpropInput dataFormat .*got "NCHW"; expected 'NHWC'/);
  });
});

describe('DepthwiseConv2dNativeBackpropInput / Filter on wasm', () => {
  it('match the cpu backend for random shapes, multipliers, strides, dilations and paddings', async () => {
    const rand = seededRandom(21);
    for (let t = 0; t < 30; t++) {
      const c = randomConv(rand, true, false);
      const attrs = {
        strides: c.strides,
        dilations: c.dilations,
        pad: c.pad,
        dimRoundingMode: undefined,
      };
      const x = randomTensor(rand, c.x);
      const filter = randomTensor(rand, c.filter);
      const dy = randomTensor(rand, c.out);
      const what = JSON.stringify(c);
      await expectKernelMatchesCpu(
        'DepthwiseConv2dNativeBackpropInput',
        { dy, filter },
        { ...attrs, inputShape: c.x },
        what,
      );
      await expectKernelMatchesCpu(
        'DepthwiseConv2dNativeBackpropFilter',
        { x, dy },
        { ...attrs, filterShape: c.filter },
        what,
      );
    }
  });
});
