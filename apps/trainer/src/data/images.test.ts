import * as tf from '@tensorflow/tfjs';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../errors.js';
import { decodeImage, encodePng, resizeBilinear } from './images.js';

describe('image decoding', () => {
  it('decodes grey and RGB PNGs to the bytes they were written from', () => {
    const grey = Uint8Array.from({ length: 6 }, (_, i) => i * 40);
    const g = decodeImage(encodePng(grey, 2, 3, 1), 'g.png');
    expect([g.height, g.width, g.grey]).toEqual([2, 3, true]);
    expect([...g.rgb.filter((_, k) => k % 3 === 0)]).toEqual([...grey]);
    const rgb = Uint8Array.from({ length: 12 }, (_, i) => (i * 23) % 256);
    const c = decodeImage(encodePng(rgb, 2, 2, 3), 'c.png');
    expect(c.grey).toBe(false);
    expect([...c.rgb]).toEqual([...rgb]);
  });

  it('decodes a JPEG (lossy: close to its source) and refuses bytes that are no image', () => {
    const data = new Uint8Array(8 * 8 * 4).fill(200);
    const encoded = jpeg.encode({ data, width: 8, height: 8 }, 95).data;
    const img = decodeImage(new Uint8Array(encoded), 'a.jpg');
    expect([img.height, img.width, img.grey]).toEqual([8, 8, true]);
    expect(Math.abs(img.rgb[0]! - 200)).toBeLessThanOrEqual(2);
    expect(() => decodeImage(Uint8Array.of(1, 2, 3, 4), 'x.png')).toThrow(DataFormatError);
    expect(() => decodeImage(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0, 0), 'bad.png')).toThrow(
      /bad.png is not a readable image/,
    );
  });

  it('resizes like tf.image.resizeBilinear with half-pixel centres (to rounding)', async () => {
    const src = Uint8Array.from({ length: 5 * 7 * 3 }, (_, i) => (i * 37) % 256);
    for (const [h, w] of [
      [10, 14],
      [3, 4],
      [5, 7],
    ] as const) {
      const ours = resizeBilinear(src, 5, 7, 3, h, w);
      const ref = tf.tidy(() =>
        tf.image.resizeBilinear(tf.tensor3d(src, [5, 7, 3], 'float32'), [h, w], false, true),
      );
      const theirs = await ref.data();
      ref.dispose();
      const worst = Math.max(...Array.from(ours, (v, i) => Math.abs(v - theirs[i]!)));
      expect(worst).toBeLessThanOrEqual(0.5 + 1e-4);
    }
  });
});
