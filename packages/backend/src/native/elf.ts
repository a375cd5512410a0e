import { open } from 'node:fs/promises';
import { NativeBuildError } from './errors.js';

/** A library whose symbols cannot be read: the staged TensorFlow library is damaged or foreign. */
function notElf(path: string, why: string): NativeBuildError {
  return new NativeBuildError(
    'NATIVE_BAD_LIBRARY',
    'verify',
    `${path} cannot be read as a shared library: ${why}; delete it and run build-native again.`,
  );
}

const SHT_DYNSYM = 11;

/**
 * The names a 64-bit little-endian ELF shared library exports: the defined global and weak
 * symbols of its dynamic symbol table (what `nm -D --defined-only` lists), read without binutils.
 */
export async function exportedSymbols(path: string): Promise<Set<string>> {
  const file = await open(path, 'r');
  try {
    const read = async (position: number, length: number) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, position);
      if (bytesRead !== length) throw notElf(path, 'it is truncated');
      return buffer;
    };
    const header = await read(0, 64);
    if (header.readUInt32BE(0) !== 0x7f454c46) throw notElf(path, 'it is not an ELF file');
    if (header[4] !== 2 || header[5] !== 1) {
      throw notElf(path, 'it is not a 64-bit little-endian ELF file');
    }
    const sectionOffset = Number(header.readBigUInt64LE(0x28));
    const sectionSize = header.readUInt16LE(0x3a);
    const sectionCount = header.readUInt16LE(0x3c);
    const sections = await read(sectionOffset, sectionSize * sectionCount);
    const section = (i: number) => {
      const s = i * sectionSize;
      return {
        type: sections.readUInt32LE(s + 4),
        offset: Number(sections.readBigUInt64LE(s + 0x18)),
        size: Number(sections.readBigUInt64LE(s + 0x20)),
        link: sections.readUInt32LE(s + 0x28),
        entrySize: Number(sections.readBigUInt64LE(s + 0x38)),
      };
    };
    const names = new Set<string>();
    for (let i = 0; i < sectionCount; i++) {
      const dynsym = section(i);
      if (dynsym.type !== SHT_DYNSYM) continue;
      const strings = section(dynsym.link);
      const table = await read(dynsym.offset, dynsym.size);
      const text = await read(strings.offset, strings.size);
      for (let p = 0; p + dynsym.entrySize <= table.length; p += dynsym.entrySize) {
        const binding = table[p + 4]! >> 4;
        const definedIn = table.readUInt16LE(p + 6);
        if (definedIn === 0 || (binding !== 1 && binding !== 2)) continue;
        const start = table.readUInt32LE(p);
        names.add(text.toString('latin1', start, text.indexOf(0, start)));
      }
    }
    return names;
  } finally {
    await file.close();
  }
}
