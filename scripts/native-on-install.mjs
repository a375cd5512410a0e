// The repository's `postinstall`: builds the native TensorFlow backend (what `pnpm native` does)
// so that the quick start trains on TensorFlow, wherever pip can fetch the TensorFlow wheel.
// It prints one line and never fails the install: without a wheel (offline, no pip), or on any
// build error, the app runs on wasm as before. ONERUN_NATIVE=0 skips it. A second install finds
// the addon built and only re-checks it (a few seconds).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const logFile = join(root, 'node_modules', '.cache', 'onerun-native', 'install.log');
const say = (line) => process.stdout.write(`native: ${line}\n`);

function run(command, args) {
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
    maxBuffer: 64 * 2 ** 20,
  });
  return {
    code: result.status ?? 1,
    stdout: result.stdout ?? '',
    stderr: `${result.stderr ?? ''}${result.error ? `\n${result.error.message}` : ''}`,
  };
}

function keepLog(text) {
  mkdirSync(join(logFile, '..'), { recursive: true });
  writeFileSync(logFile, text);
}

/** The message of the `error: …` line the build-native CLI ends with, else its last line. */
function reasonOf(output) {
  const lines = output.trim().split('\n');
  const error = lines.findLast((l) => l.startsWith('error: '));
  const reason = (error ?? lines.at(-1) ?? 'no output').replace(/^error: /, '');
  return reason.length > 160 ? `${reason.slice(0, 157)}…` : reason;
}

function main() {
  if (process.env.ONERUN_NATIVE === '0') {
    say('skipped (ONERUN_NATIVE=0); the app runs on wasm (`pnpm native` builds it later)');
    return;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    say(
      `not built (Linux x64 only, this is ${process.platform} ${process.arch}); the app runs on wasm`,
    );
    return;
  }
  const started = Date.now();
  const build = run(join(root, 'node_modules', '.bin', 'turbo'), [
    'run',
    'build',
    '--filter=@onerun/backend',
    '--output-logs=errors-only',
  ]);
  if (build.code !== 0) {
    keepLog(`${build.stdout}\n${build.stderr}`);
    say(`not built (building @onerun/backend failed, see ${logFile}); the app runs on wasm`);
    return;
  }
  const native = run(process.execPath, [
    join(root, 'packages', 'backend', 'dist', 'cli.js'),
    'build-native',
    '--from',
    join(root, 'apps', 'trainer'),
    '--json',
  ]);
  keepLog(`${native.stderr}\n${native.stdout}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (native.code !== 0) {
    const why = native.code === 3 ? 'no TensorFlow wheel' : 'build failed';
    say(
      `not built (${why}: ${reasonOf(native.stderr)}); the app runs on wasm — ` +
        `\`pnpm native\` retries, ${logFile} has the details`,
    );
    return;
  }
  const [first] = JSON.parse(native.stdout);
  const what = first.compiled ? `built in ${seconds} s` : 'already built';
  say(
    `${first.package} on TensorFlow ${first.check.tensorflowVersion} ${what}; the app trains on it (ONERUN_NATIVE=0 skips this step)`,
  );
}

try {
  main();
} catch (error) {
  say(
    `not built (${error instanceof Error ? error.message : String(error)}); the app runs on wasm`,
  );
}
