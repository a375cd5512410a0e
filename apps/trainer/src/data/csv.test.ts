import { describe, expect, it } from 'vitest';
import { parseCsvRows } from './csv.js';

describe('CSV rows', () => {
  it('splits quoted cells, escaped quotes, CRLF and skips blank lines, keeping line numbers', () => {
    const rows = parseCsvRows('\ufeffa,"b,c","say ""hi"""\r\n\r\n1,2,3\n"multi\nline",x,y');
    expect(rows).toEqual([
      { line: 1, cells: ['a', 'b,c', 'say "hi"'] },
      { line: 3, cells: ['1', '2', '3'] },
      { line: 4, cells: ['multi\nline', 'x', 'y'] },
    ]);
  });
});
