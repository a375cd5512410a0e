// apps/trainer (onerun): `--data PATH` against the IDX path on the full Fashion-MNIST (60,000 +
// 10,000 images). Writes the images once as a PNG class folder (train/ and test/, 28×28 grey),
// then, each in a fresh process so that its peak RSS is its own:
//   1. loading the IDX files (loadData 'fashion-mnist'),
//   2. loading the PNG folder (loadData PATH: decode with pngjs, bytes kept as uint8),
//   3. `onerun train --data <png folder>` (MLP baseline, --epochs 1 by default) end to end.
// Prints wall time and peak RSS (the process's maxRSS) of each; the bound is a peak RSS
// under 1.5 GB while training on the PNG folder.
//   node bench/own-data.bench.mjs [--idx=/usr/share/datasets/fashion-mnist] [--dir=/tmp/onerun-fmnist-png]
//                                 [--epochs=1] [--model=mlp] [--backend=auto]
// Needs the built app (pnpm build) and Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

const run = promisify(execFile);
const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const idx = arg('idx', '/usr/share/datasets/fashion-mnist');
const dir = arg('dir', join(tmpdir(), 'onerun-fmnist-png'));
const app = fileURLToPath(new URL('../apps/trainer/dist/', import.meta.url));
const child = arg('child', '');
const mb = (kb) => kb / 1024;

if (child === 'load-idx' || child === 'load-png') {
  const { loadData } = await import(join(app, 'index.js'));
  const t0 = performance.now();
  const data =
    child === 'load-idx'
      ? await loadData({ data: 'fashion-mnist', dataDir: idx })
      : await loadData({ data: dir });
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      seconds,
      train: data.train.size,
      test: data.test.size,
      shape: data.inputShape,
      maxRssMB: mb(process.resourceUsage().maxRSS),
    }),
  );
  process.exit(0);
}

function readIdx(name) {
  const raw = gunzipSync(readFileSync(join(idx, `${name}.gz`)));
  const dims = raw[3];
  return raw.subarray(4 + 4 * dims);
}

async function writePngFolder() {
  if (existsSync(join(dir, '.complete'))) return undefined;
  const { encodePng, FASHION_MNIST_CLASSES } = await import(join(app, 'index.js'));
  const folderOf = FASHION_MNIST_CLASSES.map((c) => c.replace(/[^A-Za-z0-9]+/g, '-'));
  const t0 = performance.now();
  for (const [part, prefix] of [
    ['train', 'train'],
    ['test', 't10k'],
  ]) {
    const images = readIdx(`${prefix}-images-idx3-ubyte`);
    const labels = readIdx(`${prefix}-labels-idx1-ubyte`);
    for (const f of folderOf) await mkdir(join(dir, part, f), { recursive: true });
    for (let i = 0; i < labels.length; i++) {
      const png = encodePng(images.subarray(i * 784, (i + 1) * 784), 28, 28, 1);
      await writeFile(
        join(dir, part, folderOf[labels[i]], `${String(i).padStart(5, '0')}.png`),
        png,
      );
    }
  }
  await writeFile(join(dir, '.complete'), '');
  return (performance.now() - t0) / 1000;
}

async function measureChild(kind) {
  const { stdout } = await run(
    process.execPath,
    [fileURLToPath(import.meta.url), `--child=${kind}`, `--idx=${idx}`, `--dir=${dir}`],
    {
      maxBuffer: 1 << 24,
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

async function measureTraining() {
  const work = await mkdtemp(join(tmpdir(), 'onerun-own-bench-'));
  const hook = join(work, 'rss-hook.mjs');
  // Reports the process's peak RSS when it exits.
  await writeFile(
    hook,
    [
      "import { writeSync } from 'node:fs';",
      "process.on('exit', () => writeSync(2, '\\nPEAK_RSS_KB ' + process.resourceUsage().maxRSS + '\\n'));",
      '',
    ].join('\n'),
  );
  const args = [
    '--import',
    hook,
    join(app, 'cli.js'),
    'train',
    '--data',
    dir,
    '--model',
    arg('model', 'mlp'),
    '--method',
    'baseline',
    '--epochs',
    arg('epochs', '1'),
    '--backend',
    arg('backend', 'auto'),
    '--quiet',
    '--json',
    '--out',
    join(work, 'run'),
  ];
  const t0 = performance.now();
  const { stdout, stderr } = await run(process.execPath, args, { maxBuffer: 1 << 26 });
  const seconds = (performance.now() - t0) / 1000;
  const peak = Number(/PEAK_RSS_KB (\d+)/.exec(stderr)?.[1]);
  const result = JSON.parse(stdout);
  await rm(work, { recursive: true, force: true });
  return {
    seconds,
    maxRssMB: mb(peak),
    backend: result.backend.backend,
    accuracy: result.metrics.result.accuracy,
    examplesPerSecond: result.examplesPerSecond,
  };
}

const wrote = await writePngFolder();
if (wrote !== undefined) console.log(`wrote 70,000 PNGs to ${dir} in ${wrote.toFixed(1)} s`);
else console.log(`PNG folder: ${dir} (already written)`);
const idxLoad = await measureChild('load-idx');
const pngLoad = await measureChild('load-png');
console.log('\nload (fresh process each)          seconds   peak RSS');
console.log(
  `IDX (gzipped, ${idxLoad.train} + ${idxLoad.test})       ${idxLoad.seconds.toFixed(2).padStart(7)}   ${idxLoad.maxRssMB.toFixed(0).padStart(5)} MB`,
);
console.log(
  `PNG folder (${pngLoad.train} + ${pngLoad.test})         ${pngLoad.seconds.toFixed(2).padStart(7)}   ${pngLoad.maxRssMB.toFixed(0).padStart(5)} MB`,
);
console.log(
  `ratio PNG / IDX                    ${(pngLoad.seconds / idxLoad.seconds).toFixed(1).padStart(7)}×  ${(pngLoad.maxRssMB / idxLoad.maxRssMB).toFixed(2).padStart(5)}×`,
);
const trained = await measureTraining();
console.log(
  `\nonerun train --data <PNG folder> --model ${arg('model', 'mlp')} --epochs ${arg('epochs', '1')} (${trained.backend}): ` +
    `${trained.seconds.toFixed(1)} s, ${trained.examplesPerSecond.toFixed(0)} examples/s, test accuracy ${(100 * trained.accuracy).toFixed(1)}%, ` +
    `peak RSS ${trained.maxRssMB.toFixed(0)} MB (bound: 1536 MB) ${trained.maxRssMB < 1536 ? 'OK' : 'OVER'}`,
);
