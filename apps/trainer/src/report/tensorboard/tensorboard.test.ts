import { describe, expect, it } from 'vitest';
import { crc32c, maskedCrc32c, tfRecord } from './crc32c.js';
import { fileVersionEvent, scalarEvent } from './event-proto.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('crc32c', () => {
  it('matches the published check values', () => {
    // The CRC catalogue's check value of CRC-32C, and RFC 3720 (iSCSI) appendix B.4.
    expect(crc32c(bytes('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('masks as TFRecord does: rotate right 15, add 0xa282ead8', () => {
    const crc = 0xe3069283;
    const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
    expect(maskedCrc32c(bytes('123456789'))).toBe((rotated + 0xa282ead8) % 2 ** 32);
  });

  it('frames a record: length, masked CRC of the length, data, masked CRC of the data', () => {
    const record = tfRecord(bytes('abc'));
    const view = new DataView(record.buffer);
    expect(record.length).toBe(8 + 4 + 3 + 4);
    expect(view.getBigUint64(0, true)).toBe(3n);
    expect(view.getUint32(8, true)).toBe(maskedCrc32c(record.subarray(0, 8)));
    expect([...record.subarray(12, 15)]).toEqual([...bytes('abc')]);
    expect(view.getUint32(15, true)).toBe(maskedCrc32c(bytes('abc')));
  });
});

describe('event protobufs', () => {
  it('encodes the file-version event byte for byte', () => {
    // wall_time 1.5: key 0x09 + little-endian double; step 0: 0x10 0x00; file_version: key 0x1a,
    // length 13, "brain.Event:2".
    expect([...fileVersionEvent(1.5)]).toEqual([
      0x09,
      ...[0, 0, 0, 0, 0, 0, 0xf8, 0x3f],
      0x10,
      0x00,
      0x1a,
      13,
      ...bytes('brain.Event:2'),
    ]);
  });

  it('encodes a scalar summary byte for byte, with a multi-byte varint step', () => {
    // step 300 = 0b1_0010_1100 → varint 0xac 0x02; value 0.5 as float 00 00 00 3f.
    const tag = bytes('lr');
    const value = [0x0a, tag.length, ...tag, 0x15, 0, 0, 0, 0x3f];
    expect([...scalarEvent(2, 300, [{ tag: 'lr', value: 0.5 }])]).toEqual([
      0x09,
      ...[0, 0, 0, 0, 0, 0, 0, 0x40],
      0x10,
      0xac,
      0x02,
      0x2a,
      value.length + 2,
      0x0a,
      value.length,
      ...value,
    ]);
    expect(() => scalarEvent(0, -1, [])).toThrow(/step -1/);
  });
});
