import { DataFormatError } from '../errors.js';
import { readDataFile } from './read-file.js';

/** Most bytes a CSV file may hold (1 GiB: its text is one string in memory). */
export const MAX_CSV_BYTES = 2 ** 30;

/**
 * Splits CSV text into rows of cells (RFC 4180: `,` separated, `"` quoted, `""` an escaped quote,
 * CRLF or LF line ends). Blank lines are skipped. Rows keep their 1-based line number for errors.
 */
export function parseCsvRows(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark is not part of the first cell
  const endRow = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0]!.trim() !== '') rows.push({ line: rowLine, cells });
    cells = [];
    cell = '';
  };
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else cell += ch;
  }
  if (cell !== '' || cells.length > 0) endRow();
  return rows;
}

/** A cell as a number, or `undefined` when it is not one (empty cells are not numbers). */
export function numberOf(cell: string): number | undefined {
  const t = cell.trim();
  if (t === '') return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/** A CSV table: its column names (from the header row, else `column 1…n`) and its data rows. */
export interface CsvTable {
  path: string;
  header: string[];
  /** Whether the first row was a header (it held a cell that is not a number). */
  hasHeader: boolean;
  rows: { line: number; cells: string[] }[];
}

/**
 * Reads a CSV file. The first row is a header when any of its cells is not a number (so a file
 * of numbers alone has no header). Every row must have the header's number of cells.
 */
export async function readCsv(path: string): Promise<CsvTable> {
  const text = new TextDecoder().decode(
    await readDataFile(path, { maxBytes: MAX_CSV_BYTES, what: 'CSV file' }),
  );
  const all = parseCsvRows(text);
  if (all.length === 0) throw new DataFormatError(path, `${path} is empty; expected CSV rows.`);
  const first = all[0]!;
  const hasHeader = first.cells.some((c) => numberOf(c) === undefined);
  const header = hasHeader
    ? first.cells.map((c) => c.trim())
    : first.cells.map((_, j) => `column ${j + 1}`);
  const rows = hasHeader ? all.slice(1) : all;
  for (const row of rows) {
    if (row.cells.length !== header.length) {
      throw new DataFormatError(
        path,
        `${path} line ${row.line} has ${row.cells.length} cells; expected ${header.length} like ${hasHeader ? 'the header' : 'the first row'}.`,
      );
    }
  }
  if (rows.length === 0) throw new DataFormatError(path, `${path} has a header but no data rows.`);
  return { path, header, hasHeader, rows };
}

/**
 * The index of the label column: `spec` is a column name (from the header) or a 1-based column
 * number; by default the last column.
 */
export function labelColumnOf(table: CsvTable, spec: string | undefined): number {
  if (spec === undefined) return table.header.length - 1;
  const byName = table.header.indexOf(spec);
  if (table.hasHeader && byName >= 0) return byName;
  if (/^\d+$/.test(spec)) {
    const n = Number(spec);
    if (n >= 1 && n <= table.header.length) return n - 1;
  }
  const names = table.hasHeader ? `columns ${table.header.join(', ')}` : 'no header row';
  throw new DataFormatError(
    table.path,
    `${table.path} has no label column '${spec}' (${names}; ${table.header.length} columns); pass --label-column with a column name or a number 1…${table.header.length}.`,
  );
}

/**
 * The feature columns of `rows` (all but `skip`, if given) as float32, row-major. A cell that is
 * not a number is an error naming the file, line and column.
 */
export function featureMatrix(table: CsvTable, skip: number | undefined): Float32Array {
  const width = table.header.length - (skip === undefined ? 0 : 1);
  const out = new Float32Array(table.rows.length * width);
  let k = 0;
  for (const row of table.rows) {
    for (let j = 0; j < row.cells.length; j++) {
      if (j === skip) continue;
      const v = numberOf(row.cells[j]!);
      if (v === undefined) {
        throw new DataFormatError(
          table.path,
          `${table.path} line ${row.line}, column '${table.header[j]}' (${j + 1}): '${row.cells[j]}' is not a number; feature columns must be numeric.`,
        );
      }
      out[k++] = v;
    }
  }
  return out;
}
