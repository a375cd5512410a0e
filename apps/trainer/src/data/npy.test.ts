import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../errors.js';
import { encodeNpy, parseNpy, parseNpz } from './npy.js';

/** A .npy header written by hand, as NumPy 1.x writes it for np.save(f, np.array(..., '<i8')). */
function handNpy(descr: string, shape: string, payload: number[]): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += `${' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(payload, 10 + header.length);
  return out;
}

describe('.npy reader', () => {
  it('reads the header NumPy writes and the values in C order', () => {
    // int64 little-endian [1, -2, 300]
    const i8 = handNpy(
      '<i8',
      '(3,)',
      [1, 0, 0, 0, 0, 0, 0, 0, 254, 255, 255, 255, 255, 255, 255, 255, 44, 1, 0, 0, 0, 0, 0, 0],
    );
    expect((10 + i8.length - 24) % 64).toBe(10); // data begins on a 64-byte boundary
    const a = parseNpy(i8);
    expect(a.shape).toEqual([3]);
    expect([...a.data]).toEqual([1, -2, 300]);
    // big-endian float32 1.5 = 0x3fc00000
    const f = parseNpy(handNpy('>f4', '(1, 1)', [0x3f, 0xc0, 0, 0]));
    expect(f.shape).toEqual([1, 1]);
    expect([...f.data]).toEqual([1.5]);
    // float16 -2 = 0xc000
    expect([...parseNpy(handNpy('<f2', '(1,)', [0, 0xc0])).data]).toEqual([-2]);
  });

  it('round-trips bytes, int32 and float32 through encodeNpy', () => {
    const bytes = Uint8Array.from([0, 7, 255, 128, 1, 2]);
    const u = parseNpy(encodeNpy([2, 3], bytes));
    expect(u).toMatchObject({ shape: [2, 3], dtype: 'u1' });
    expect([...u.data]).toEqual([...bytes]);
    expect([...parseNpy(encodeNpy([2], Int32Array.of(-5, 9))).data]).toEqual([-5, 9]);
    expect([...parseNpy(encodeNpy([2], Float32Array.of(0.25, -3))).data]).toEqual([0.25, -3]);
  });

  it('refuses Fortran order, other dtypes, short data and non-npy bytes', () => {
    expect(() => parseNpy(handNpy('<f4', '(1,)', [0, 0]))).toThrow(/truncated/);
    const fortran = new TextDecoder()
      .decode(encodeNpy([1], Float32Array.of(1)))
      .replace('False', 'True ');
    expect(() => parseNpy(new TextEncoder().encode(fortran))).toThrow(DataFormatError);
    expect(() => parseNpy(handNpy('<U3', '(1,)', [0, 0, 0]))).toThrow(
      /dtype '<U3'; expected numbers/,
    );
    expect(() => parseNpy(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 'f.npy')).toThrow(
      /f.npy is not a .npy file/,
    );
  });
});

describe('.npz reader', () => {
  it('reads np.savez (stored) and np.savez_compressed (deflated) archives by array name', () => {
    const x = encodeNpy([2, 2], Float32Array.of(1, 2, 3, 4));
    const y = encodeNpy([2], Int32Array.of(0, 1));
    for (const level of [0, 6] as const) {
      const arrays = parseNpz(zipSync({ 'x.npy': x, 'y.npy': y }, { level }));
      expect([...arrays.keys()]).toEqual(['x', 'y']);
      expect([...arrays.get('x')!.data]).toEqual([1, 2, 3, 4]);
      expect([...arrays.get('y')!.data]).toEqual([0, 1]);
    }
    expect(() => parseNpz(Uint8Array.of(1, 2, 3), 'a.npz')).toThrow(/a.npz is not a readable .npz/);
  });
});
