import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { SnapshotEntry } from '@onerun/snapshots';
import { RunFolderError, UsageError } from '../errors.js';
import { type CurveResult, findCurve } from '../evaluation/find-curve.js';
import { curveChart } from '../report/charts.js';
import { runFacts } from '../report/content.js';
import { num, pct } from '../report/format.js';
import { type Table, writeReport } from '../report/html.js';
import { writeJson } from '../run-folder/files.js';
import { RunFolder } from '../run-folder/folder.js';
import { prepareOwnOut } from '../run-folder/provenance.js';
import type { RunFile } from '../run-folder/records.js';
import type { BackendRecord } from '../training/config.js';
import { loadDataFor } from './train.js';

/** Files `onerun curve` writes into its folder (and replaces with --force). */
const CURVE_ENTRIES = ['curve.json', 'curve.bin', 'result.json', 'report.html', 'charts'];

/** `DIR` or `DIR:SNAPSHOT_ID` → folder and optional id. */
export function parseEnd(spec: string): { dir: string; id?: string } {
  if (existsSync(spec)) return { dir: spec };
  const at = spec.lastIndexOf(':');
  if (at > 0 && existsSync(spec.slice(0, at)))
    return { dir: spec.slice(0, at), id: spec.slice(at + 1) };
  throw new UsageError(
    `No run folder '${spec}'; pass a folder made by onerun train (optionally DIR:SNAPSHOT_ID).`,
  );
}

async function pickEnd(spec: string) {
  const { dir, id } = parseEnd(spec);
  const folder = new RunFolder(dir);
  const runFile = await folder.requireRunFile();
  const store = folder.members();
  const entries = await store.list();
  let entry: SnapshotEntry | undefined;
  if (id !== undefined) {
    entry = entries.find((e) => e.id === id);
    if (!entry) {
      throw new UsageError(
        `${folder.dir} has no snapshot '${id}'; its snapshots are ${entries.map((e) => e.id).join(', ') || 'none'}.`,
      );
    }
  } else {
    const wanted = runFile.config.method === 'swa' ? 'swa' : 'member';
    entry = entries.filter((e) => e.tags?.kind === wanted).at(-1);
    if (!entry) {
      throw new RunFolderError(
        `${folder.dir} has no trained model yet; finish it with onerun train --out ${dir}.`,
      );
    }
  }
  return { folder, runFile, store, entry, label: `${runFile.config.method} ${entry.id}` };
}

/** Options of `curveBetween`. */
export interface CurveCommandOptions {
  out: string;
  force: boolean;
  epochs: number;
  points: number;
  evalExamples: number;
  lr?: number;
  dataDir?: string;
  backend: BackendRecord;
  /** Notes for the user (why a barrier may be ~0). */
  log?: (line: string) => void;
}

/**
 * `onerun curve A B`: a Bezier curve between the last model of run A and of run B (or the
 * snapshots named `DIR:ID`), evaluated along with the straight line; writes the curve, its
 * numbers and a report into `out`.
 */
export async function curveBetween(
  a: string,
  b: string,
  options: CurveCommandOptions,
): Promise<{ dir: string; result: CurveResult; table: Table; report: string }> {
  const endA = await pickEnd(a);
  const endB = await pickEnd(b);
  if (JSON.stringify(endA.runFile.weights) !== JSON.stringify(endB.runFile.weights)) {
    throw new RunFolderError(
      `${endA.folder.dir} holds ${endA.runFile.architecture} and ${endB.folder.dir} holds ${endB.runFile.architecture}; curve finding needs two models of the same architecture.`,
    );
  }
  const dir = resolve(options.out);
  for (const end of [endA, endB]) {
    if (dir === end.folder.dir || dir.startsWith(`${end.folder.dir}${sep}`)) {
      throw new UsageError(
        `--out ${dir} is inside the run ${end.folder.dir}; onerun curve never writes into a run folder: choose another --out (an empty or new folder).`,
      );
    }
  }
  const config = endA.runFile.config;
  const sameStart = sameStartNote(endA, endB);
  if (sameStart) options.log?.(`onerun: ${sameStart}`);
  const data = await loadDataFor(config, options.dataDir);
  try {
    await prepareOwnOut(dir, 'curve', CURVE_ENTRIES, options.force);
    const result = await findCurve(
      config,
      data,
      { label: endA.label, store: endA.store, id: endA.entry.id },
      { label: endB.label, store: endB.store, id: endB.entry.id },
      {
        epochs: options.epochs,
        points: options.points,
        evalExamples: options.evalExamples,
        lr: options.lr ?? config.lr,
        batchSize: config.batchSize,
        weightDecay: config.weightDecay,
        seed: config.seed,
      },
      dir,
    );
    await writeJson(join(dir, 'result.json'), result);
    const table = curveTable(result);
    const points = (name: string, p: CurveResult['curve']) =>
      p.t.flatMap((t, i) => [
        { path: name, t, metric: 'train loss', value: p.trainLoss[i] ?? 0 },
        { path: name, t, metric: 'test error', value: p.testError[i] ?? 0 },
      ]);
    const report = await writeReport(dir, {
      title: `onerun curve — ${endA.label} ↔ ${endB.label}`,
      facts: [
        ['ends', `${endA.folder.dir} (${endA.label}) and ${endB.folder.dir} (${endB.label})`],
        ...runFacts(endA.runFile).filter(([k]) => k !== 'training'),
        [
          'curve',
          `Bezier with one bend, ${options.epochs} epochs of curve training, ${options.points} points, batch norm recomputed on ${Math.min(options.evalExamples, data.train.size)} training examples at each`,
        ],
        ['time', `${num(result.seconds, 1)} s`],
      ],
      table,
      charts: [
        curveChart([
          ...points('Bezier curve', result.curve),
          ...points('straight line', result.line),
        ]),
      ],
      notes: [
        'Barrier: the highest value along the path minus the straight interpolation of the two ends.',
        ...(sameStart ? [sameStart] : []),
      ],
    });
    return { dir, result, table, report };
  } finally {
    data.dispose();
  }
}

/**
 * Two ends trained from the same initial weights on the same data order (same seed) are usually
 * the same solution or close to it, so the straight line between them shows no barrier: say so.
 */
function sameStartNote(
  a: { runFile: RunFile; folder: { dir: string } },
  b: { runFile: RunFile; folder: { dir: string } },
): string | undefined {
  if (a.runFile.config.seed !== b.runFile.config.seed) return undefined;
  const same =
    a.folder.dir === b.folder.dir
      ? 'both ends come from one run'
      : `both runs have seed ${a.runFile.config.seed}`;
  return `${same}: they start from the same initial weights and data order, so a barrier near 0 along the straight line is expected; for the mode-connectivity effect, connect runs of different seeds (train --seed N).`;
}

/** Both paths' highest losses and errors and their barriers. */
export function curveTable(result: CurveResult): Table {
  const row = (label: string, p: CurveResult['curve']) => [
    label,
    num(Math.max(...p.trainLoss)),
    num(p.lossBarrier),
    pct(Math.max(...p.testError)),
    pct(p.testErrorBarrier),
  ];
  return {
    columns: ['path', 'max train loss', 'loss barrier', 'max test error', 'error barrier'],
    rows: [row('straight line', result.line), row('Bezier curve', result.curve)],
  };
}

export type { RunFile };
