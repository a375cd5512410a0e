/**
 * The few protobuf messages of a TensorBoard event file, encoded by hand (tensorflow's
 * `event.proto` and `summary.proto`):
 * `Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }`,
 * `Summary { repeated Value value = 1; }`, `Summary.Value { string tag = 1; float simple_value = 2; }`.
 */

const encoder = new TextEncoder();

/** Protobuf varint of a non-negative integer below 2⁵³. */
function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** A field key: field number and wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
const key = (field: number, wire: number) => varint(field * 8 + wire);

function lengthDelimited(field: number, bytes: Uint8Array): number[] {
  return [...key(field, 2), ...varint(bytes.length), ...bytes];
}

function fixed64Double(field: number, value: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, value, true);
  return [...key(field, 1), ...b];
}

function fixed32Float(field: number, value: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return [...key(field, 5), ...b];
}

/** One scalar of a summary. */
export interface ScalarValue {
  tag: string;
  value: number;
}

/** An `Event` holding `file_version` (the first record of every event file). */
export function fileVersionEvent(wallTime: number, version = 'brain.Event:2'): Uint8Array {
  return Uint8Array.from([
    ...fixed64Double(1, wallTime),
    ...key(2, 0),
    ...varint(0),
    ...lengthDelimited(3, encoder.encode(version)),
  ]);
}

/** An `Event` at `step` whose summary holds the scalars `values`. */
export function scalarEvent(wallTime: number, step: number, values: ScalarValue[]): Uint8Array {
  if (!(Number.isInteger(step) && step >= 0)) {
    throw new RangeError(`step ${step}: expected an integer ≥ 0`);
  }
  const summary = values.flatMap(({ tag, value }) =>
    lengthDelimited(
      1,
      Uint8Array.from([...lengthDelimited(1, encoder.encode(tag)), ...fixed32Float(2, value)]),
    ),
  );
  return Uint8Array.from([
    ...fixed64Double(1, wallTime),
    ...key(2, 0),
    ...varint(step),
    ...lengthDelimited(5, Uint8Array.from(summary)),
  ]);
}
