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
 * A data file or folder given with `--data PATH` cannot be used as it is: an unreadable image,
 * images of mixed sizes, an empty class folder, a non-numeric CSV cell, a missing label column,
 * an `.npz` without `x`/`y`, train and test with different classes. The message names the file
 * (and the row, column or array) and what was expected.
 */
export class DataFormatError extends OnerunError {
  /** The file or folder at fault. */
  readonly path: string;

  constructor(path: string, message: string) {
    super('DATA_FORMAT', message);
    this.path = path;
  }
}

/**
 * A model given with `--model` cannot train on the data: its file is not a tfjs Layers model or
 * a `createModel` module, it built its layers with another copy of tfjs, or its input or output
 * does not fit the data. The message names the model and what was expected.
 */
export class ModelFitError extends OnerunError {
  constructor(message: string) {
    super('MODEL', message);
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
