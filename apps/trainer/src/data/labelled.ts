import { seededRandom, shuffledIndices } from '@onerun/core';
import { DataFormatError } from '../errors.js';
import type { RawValues } from './preprocessing.js';

/** Examples with class indices: `count × prod(shape)` raw values, row-major. */
export interface LabelledSet {
  raw: RawValues;
  /** Shape of one example. */
  shape: number[];
  labels: Int32Array;
}

/** A data set read from a path, before it becomes splits: classes, train and test sets. */
export interface SourceData {
  kind: 'image' | 'features';
  /** Class names; index i is class i. */
  classes: string[];
  train: LabelledSet;
  test: LabelledSet;
  /** Images resized with `--image-size`, else `null`. */
  imageSize: [number, number] | null;
  /** What was read, for `config.json` and messages (e.g. `images:/data/pets (train/, test/)`). */
  source: string;
}

/**
 * Class names of label values, and each value's class index: the distinct values sorted
 * numerically when all are numbers (so `2` comes before `10`), else by code point.
 */
export function classIndex(values: readonly string[]): {
  classes: string[];
  index: Map<string, number>;
} {
  const distinct = [...new Set(values)];
  const numeric = distinct.every((v) => v.trim() !== '' && Number.isFinite(Number(v)));
  distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { classes: distinct, index: new Map(distinct.map((c, i) => [c, i])) };
}

/** `labels` as class indices of `index`; a value not among the classes is an error naming `what`. */
export function indicesOf(
  labels: readonly string[],
  index: Map<string, number>,
  what: string,
  where: (i: number) => string,
): Int32Array {
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const c = index.get(labels[i]!);
    if (c === undefined) {
      throw new DataFormatError(
        what,
        `${where(i)}: label '${labels[i]}' is not a class of the training data (${[...index.keys()].join(', ')}); train and test must have the same classes.`,
      );
    }
    out[i] = c;
  }
  return out;
}

/** The examples of `set` at `order`, in that order (one copy). */
export function reorder(set: LabelledSet, order: ArrayLike<number>): LabelledSet {
  const per = set.shape.reduce((a, b) => a * b, 1);
  const raw =
    set.raw instanceof Uint8Array
      ? new Uint8Array(order.length * per)
      : new Float32Array(order.length * per);
  const labels = new Int32Array(order.length);
  for (let i = 0; i < order.length; i++) {
    const j = order[i]!;
    raw.set(set.raw.subarray(j * per, (j + 1) * per), i * per);
    labels[i] = set.labels[j]!;
  }
  return { raw, shape: set.shape, labels };
}

/** Seed of the data order and the test split of `--data PATH` sets (data, not the training seed). */
export const DATA_SEED = 20_170_404;

/**
 * Splits `set` into train and test: `testFraction` of each class (rounded, at least one example
 * of a class with two or more) goes to test, chosen by a seeded shuffle; both sets come out in a
 * seeded shuffled order, so a validation split taken from the end of train is a random sample.
 */
export function splitTrainTest(
  set: LabelledSet,
  classes: number,
  testFraction: number,
): { train: LabelledSet; test: LabelledSet } {
  const random = seededRandom(DATA_SEED);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < set.labels.length; i++) byClass[set.labels[i]!]!.push(i);
  const train: number[] = [];
  const test: number[] = [];
  for (const members of byClass) {
    const order = shuffledIndices(members.length, random);
    const k =
      members.length < 2
        ? 0
        : Math.min(members.length - 1, Math.max(1, Math.round(members.length * testFraction)));
    for (let i = 0; i < order.length; i++) (i < k ? test : train).push(members[order[i]!]!);
  }
  const shuffle = (idx: number[]) =>
    Array.from(shuffledIndices(idx.length, random), (i) => idx[i]!);
  return { train: reorder(set, shuffle(train)), test: reorder(set, shuffle(test)) };
}

/** `set` in a seeded shuffled order (a validation split from its end is then a random sample). */
export function shuffled(set: LabelledSet): LabelledSet {
  return reorder(set, shuffledIndices(set.labels.length, seededRandom(DATA_SEED)));
}
