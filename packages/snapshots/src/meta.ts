import { InvalidArgumentError } from '@onerun/core';
import type { SnapshotMeta } from './store.js';

/**
 * Checks `meta` and returns a plain copy holding only the known fields, so that what is written
 * to the manifest is JSON-safe and cannot change after the save.
 */
export function normalizeMeta(meta: SnapshotMeta): SnapshotMeta {
  if (typeof meta !== 'object' || meta === null) {
    throw new InvalidArgumentError('meta', meta, 'an object such as { step: 120 }');
  }
  const { step, epoch, learningRate, metrics, tags } = meta;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
    throw new InvalidArgumentError('meta.step', step, 'an integer ≥ 0 (an optimizer update index)');
  }
  const out: SnapshotMeta = { step };
  if (epoch !== undefined) {
    if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0) {
      throw new InvalidArgumentError('meta.epoch', epoch, 'an integer ≥ 0 or undefined');
    }
    out.epoch = epoch;
  }
  if (learningRate !== undefined) {
    if (typeof learningRate !== 'number' || !Number.isFinite(learningRate)) {
      throw new InvalidArgumentError('meta.learningRate', learningRate, 'a finite number');
    }
    out.learningRate = learningRate;
  }
  if (metrics !== undefined) {
    if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) {
      throw new InvalidArgumentError('meta.metrics', metrics, 'an object of finite numbers');
    }
    out.metrics = {};
    for (const [key, value] of Object.entries(metrics)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new InvalidArgumentError(`meta.metrics.${key}`, value, 'a finite number');
      }
      out.metrics[key] = value;
    }
  }
  if (tags !== undefined) {
    if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
      throw new InvalidArgumentError('meta.tags', tags, 'an object of strings');
    }
    out.tags = {};
    for (const [key, value] of Object.entries(tags)) {
      if (typeof value !== 'string') {
        throw new InvalidArgumentError(`meta.tags.${key}`, value, 'a string');
      }
      out.tags[key] = value;
    }
  }
  return out;
}
