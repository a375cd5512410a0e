import { OnerunError } from '@onerun/core';

/**
 * A step of `buildNative` failed. `step` names the step; the message says what was found and
 * what to do. Subclasses exist for the failures a user fixes differently.
 */
export class NativeBuildError extends OnerunError {
  readonly step: string;

  constructor(code: string, step: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.step = step;
  }
}

/** The tfjs-node package to build is not installed where it was looked up. */
export class NativePackageNotFoundError extends NativeBuildError {
  readonly packageName: string;
  readonly from: string;

  constructor(packageName: string, from: string) {
    super(
      'NATIVE_PACKAGE_NOT_FOUND',
      'locate',
      `${packageName} is not installed for the application at ${from}; expected it in that ` +
        `application's dependencies (e.g. \`npm install ${packageName}@4.22.0\`), or pass --from ` +
        'with the folder of the application that has it.',
    );
    this.packageName = packageName;
    this.from = from;
  }
}

/** A tool the build needs (python3 with pip, a C++ compiler, make) is not on the PATH. */
export class ToolMissingError extends NativeBuildError {
  readonly tool: string;

  constructor(tool: string, purpose: string, hint: string) {
    super('TOOL_MISSING', 'toolchain', `${tool} was not found, but is needed ${purpose}; ${hint}`);
    this.tool = tool;
  }
}

/** No Node.js C headers (`include/node/node_api.h`) were found to compile the addon against. */
export class NodeHeadersMissingError extends NativeBuildError {
  readonly searched: string[];

  constructor(searched: string[]) {
    super(
      'NODE_HEADERS_MISSING',
      'toolchain',
      `the Node.js headers (include/node/node_api.h) are not in any of ${searched.join(', ')}; ` +
        'install them (Debian/Ubuntu: `apt-get install libnode-dev`, or the official Node.js ' +
        'tarball, which ships them) or point --nodedir (npm_config_nodedir) at the folder holding include/node.',
    );
    this.searched = searched;
  }
}

/** Not enough free disk space for a step. */
export class DiskSpaceError extends NativeBuildError {
  constructor(folder: string, neededBytes: number, freeBytes: number, purpose: string) {
    super(
      'DISK_SPACE',
      'disk',
      `${purpose} needs about ${mb(neededBytes)} MB free in ${folder}, but only ${mb(freeBytes)} MB are free.`,
    );
  }
}

/** No TensorFlow wheel: the given path is missing or not a wheel, or pip could not fetch one. */
export class WheelUnavailableError extends NativeBuildError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WHEEL_UNAVAILABLE', 'wheel', message, options);
  }
}

/** The wheel's library lacks C API functions that tfjs-node's binding calls. */
export class MissingSymbolsError extends NativeBuildError {
  readonly missing: string[];

  constructor(library: string, missing: string[]) {
    super(
      'MISSING_SYMBOLS',
      'verify',
      `${library} do(es) not export ${missing.length} C API function(s) that tfjs-node's binding calls: ` +
        `${missing.join(', ')}; expected a TensorFlow 2.x wheel whose libtensorflow_cc exports the ` +
        'C and eager C API (tensorflow-cpu or tensorflow ≥ 2.9).',
    );
    this.missing = missing;
  }
}

/** A command the build runs (pip, node-pre-gyp) exited with an error. */
export class CommandFailedError extends NativeBuildError {
  readonly command: string;
  readonly exitCode: number | null;

  constructor(step: string, command: string, exitCode: number | null, output: string) {
    super(
      'COMMAND_FAILED',
      step,
      `\`${command}\` failed (exit code ${exitCode ?? 'none'}); its last output:\n${output}`,
    );
    this.command = command;
    this.exitCode = exitCode;
  }
}

/** The built addon did not load, or its ops disagreed with the cpu backend. */
export class NativeCheckFailedError extends NativeBuildError {
  constructor(message: string) {
    super('NATIVE_CHECK_FAILED', 'check', message);
  }
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}
