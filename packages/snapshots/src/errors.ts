import { OnerunError } from '@onerun/core';

/** Base class of the errors a snapshot store throws on purpose. */
export class SnapshotError extends OnerunError {}

/**
 * A snapshot's files (or the store's manifest) are damaged: a file is missing, truncated, or its
 * bytes do not match the checksum recorded at save time. `snapshotId` is `undefined` when the
 * damaged file is the store's own manifest.
 */
export class SnapshotCorruptError extends SnapshotError {
  readonly snapshotId: string | undefined;
  readonly file: string;
  readonly reason: string;

  constructor(snapshotId: string | undefined, file: string, reason: string) {
    const what = snapshotId === undefined ? 'Snapshot store' : `Snapshot '${snapshotId}'`;
    super(
      'SNAPSHOT_CORRUPT',
      `${what} is corrupt: ${file}: ${reason}; expected the file exactly as it was saved.`,
    );
    this.snapshotId = snapshotId;
    this.file = file;
    this.reason = reason;
  }
}

/** No snapshot with this id is listed (never saved, deleted, or dropped by retention). */
export class SnapshotNotFoundError extends SnapshotError {
  readonly snapshotId: string;

  constructor(snapshotId: string, known: readonly string[]) {
    const shown = known.slice(-8).map((id) => `'${id}'`);
    super(
      'SNAPSHOT_NOT_FOUND',
      `No snapshot '${snapshotId}' in the store; expected one of the listed ids` +
        (known.length === 0
          ? ' (the store is empty).'
          : ` (${known.length > 8 ? '…, ' : ''}${shown.join(', ')}).`),
    );
    this.snapshotId = snapshotId;
  }
}

/** Another live process holds the store's writer lock for longer than the timeout allows. */
export class SnapshotLockError extends SnapshotError {
  readonly lockFile: string;

  constructor(lockFile: string, detail: string) {
    super(
      'SNAPSHOT_LOCKED',
      `Could not take the writer lock ${lockFile}: ${detail}; expected no other live writer ` +
        'on this store (remove the lock file only if you are sure its process is gone).',
    );
    this.lockFile = lockFile;
  }
}

/** A write was attempted on a store opened with `readOnly: true`. */
export class SnapshotReadOnlyError extends SnapshotError {
  constructor(dir: string, operation: string) {
    super(
      'SNAPSHOT_READ_ONLY',
      `Cannot ${operation} in ${dir}: the store was opened with readOnly: true; expected a ` +
        'writable store (readOnly: false) for saving or deleting.',
    );
  }
}

/** Optimizer state cannot be saved or restored (absent, other optimizer class, other shapes). */
export class OptimizerStateError extends SnapshotError {
  constructor(message: string) {
    super('OPTIMIZER_STATE', message);
  }
}

/**
 * The file system refused a write of the store (the folder is a file, the disk is full, no
 * permission). The message names the path and the system's error code; `cause` is the original.
 */
export class SnapshotWriteError extends SnapshotError {
  readonly path: string;
  readonly systemCode: string | undefined;

  constructor(operation: string, path: string, cause: unknown) {
    const code = (cause as { code?: unknown } | undefined)?.code;
    const systemCode = typeof code === 'string' ? code : undefined;
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      'SNAPSHOT_WRITE',
      `Cannot ${operation} ${path} (${detail}); expected a folder this process can write to` +
        (systemCode === 'ENOSPC' ? ' with free space on its disk.' : '.'),
      { cause },
    );
    this.path = path;
    this.systemCode = systemCode;
  }
}
