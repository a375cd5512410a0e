import { OnerunError } from '@onerun/core';

/**
 * A mistake in what the user asked for (unknown method, bad number, budget too small, existing
 * run folder without `--force`). The message names the problem and the fix, on one line.
 */
export class UsageError extends OnerunError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** No copy of a data set was found; the message lists every place that was tried. */
export class DataNotFoundError extends OnerunError {
  /** The places looked at, in order, each with why it did not qualify. */
  readonly tried: readonly string[];

  constructor(message: string, tried: readonly string[]) {
    super('DATA_NOT_FOUND', message);
    this.tried = tried;
  }
}

/** A file claims to be IDX but its header or length says otherwise. */
export class IdxFormatError extends OnerunError {
  constructor(message: string) {
    super('IDX_FORMAT', message);
  }
}

/** A run folder is missing, incomplete, or belongs to another configuration. */
export class RunFolderError extends OnerunError {
  constructor(message: string) {
    super('RUN_FOLDER', message);
  }
}

/**
 * A data file cannot be read as one: it is a folder, a FIFO, a device or a socket, larger than
 * the bound the reader allows, or the file system refused it. The message names the file.
 */
export class DataFileError extends OnerunError {
  readonly path: string;

  constructor(path: string, message: string) {
    super('DATA_FILE', message);
    this.path = path;
  }
}
