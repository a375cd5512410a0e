import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { NativeBuildError } from './errors.js';

/** A wheel that cannot be unpacked (damaged download, not a zip): the message says which part. */
function badArchive(message: string): NativeBuildError {
  return new NativeBuildError(
    'NATIVE_BAD_WHEEL',
    'stage',
    `${message}; delete the wheel and run build-native again to download it anew.`,
  );
}

/** One file inside a zip archive (a wheel is a zip), from its central directory. */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Lists the files of a zip archive (zip64 included) without reading their contents. */
export async function listZip(path: string): Promise<ZipEntry[]> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const tailLength = Math.min(size, 65_557);
    const tail = await readAt(file, size - tailLength, tailLength);
    const at = tail.lastIndexOf(u32(EOCD));
    if (at < 0) throw badArchive(`${path} is not a zip archive (no end-of-directory record)`);
    let count = tail.readUInt16LE(at + 10);
    let dirSize = tail.readUInt32LE(at + 12);
    let dirOffset = tail.readUInt32LE(at + 16);
    if (at >= 20 && tail.readUInt32LE(at - 20) === ZIP64_LOCATOR) {
      const record = await readAt(file, Number(tail.readBigUInt64LE(at - 12)), 56);
      if (record.readUInt32LE(0) !== ZIP64_EOCD) throw badArchive(`${path}: bad zip64 record`);
      count = Number(record.readBigUInt64LE(32));
      dirSize = Number(record.readBigUInt64LE(40));
      dirOffset = Number(record.readBigUInt64LE(48));
    }
    const dir = await readAt(file, dirOffset, dirSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (dir.readUInt32LE(p) !== CENTRAL) throw badArchive(`${path}: bad central directory`);
      const nameLength = dir.readUInt16LE(p + 28);
      const extraLength = dir.readUInt16LE(p + 30);
      const commentLength = dir.readUInt16LE(p + 32);
      const entry: ZipEntry = {
        name: dir.toString('utf8', p + 46, p + 46 + nameLength),
        method: dir.readUInt16LE(p + 10),
        crc32: dir.readUInt32LE(p + 16),
        compressedSize: dir.readUInt32LE(p + 20),
        size: dir.readUInt32LE(p + 24),
        localHeaderOffset: dir.readUInt32LE(p + 42),
      };
      applyZip64(entry, dir.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength));
      entries.push(entry);
      p += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    await file.close();
  }
}

/**
 * Writes one entry of the archive to `target` (through a temporary file, renamed when complete),
 * checking its CRC-32 where this Node has `zlib.crc32`.
 */
export async function extractZipEntry(
  path: string,
  entry: ZipEntry,
  target: string,
): Promise<void> {
  const file = await open(path, 'r');
  let dataStart: number;
  try {
    const header = await readAt(file, entry.localHeaderOffset, 30);
    if (header.readUInt32LE(0) !== LOCAL) throw badArchive(`${path}: bad header for ${entry.name}`);
    dataStart = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  } finally {
    await file.close();
  }
  if (entry.method !== 0 && entry.method !== 8) {
    throw badArchive(
      `${path}: ${entry.name} uses compression method ${entry.method}; expected 0 or 8`,
    );
  }
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  const crc = crcCheck();
  try {
    const source = createReadStream(path, {
      start: dataStart,
      end: dataStart + entry.compressedSize - 1,
      highWaterMark: 1 << 20,
    });
    const stages = entry.method === 8 ? [source, zlib.createInflateRaw()] : [source];
    await pipeline([...stages, crc.stream, createWriteStream(partial)]);
    if (crc.value() !== undefined && crc.value() !== entry.crc32) {
      throw badArchive(`${path}: ${entry.name} is corrupt (CRC-32 mismatch)`);
    }
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

function crcCheck(): { stream: Transform; value: () => number | undefined } {
  const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  let value = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (crc32) value = crc32(chunk, value);
      done(null, chunk);
    },
  });
  return { stream, value: () => (crc32 ? value >>> 0 : undefined) };
}

function applyZip64(entry: ZipEntry, extra: Buffer): void {
  let p = 0;
  while (p + 4 <= extra.length) {
    const id = extra.readUInt16LE(p);
    const length = extra.readUInt16LE(p + 2);
    if (id === 0x0001) {
      let q = p + 4;
      const next = () => {
        const value = Number(extra.readBigUInt64LE(q));
        q += 8;
        return value;
      };
      if (entry.size === 0xffffffff) entry.size = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next();
      return;
    }
    p += 4 + length;
  }
}

async function readAt(
  file: Awaited<ReturnType<typeof open>>,
  position: number,
  length: number,
): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
}
