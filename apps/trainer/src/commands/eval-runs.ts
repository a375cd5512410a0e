import { type ClassificationMetrics, Ensemble, type SnapshotSource } from '@onerun/ensemble';
import type { SnapshotEntry, SnapshotStore } from '@onerun/snapshots';
import { RunFolderError, UsageError } from '../errors.js';
import { byKind, pick } from '../evaluation/score-run.js';
import { METRIC_COLUMNS, metricCells } from '../report/format.js';
import type { Table } from '../report/html.js';
import { RunFolder } from '../run-folder/folder.js';
import { checkMembers } from '../run-folder/members-check.js';
import { architectureOf, type RunConfig } from '../training/config.js';
import { loadDataFor } from './train.js';

/** One run's final model inside an ensemble of runs. */
export interface RunMember extends ClassificationMetrics {
  dir: string;
  method: RunConfig['method'];
  seed: number;
  /** The snapshot scored: the run's last member, or SWA's averaged model. */
  id: string;
}

/** What `onerun eval DIR DIR…` reports: a deep ensemble of independently trained runs. */
export interface RunsEnsembleResult {
  members: RunMember[];
  ensemble: ClassificationMetrics;
  /** The ensemble of the first k runs, k = 1…M, in the order given. */
  sizeCurve: ({ k: number } & ClassificationMetrics)[];
  disagreement: number;
  testSize: number;
  table: Table;
}

/** The model a run ends with: SWA's average (BN recomputed), else its last collected member. */
function finalModel(config: RunConfig, entries: SnapshotEntry[]): SnapshotEntry | undefined {
  return byKind(entries, config.method === 'swa' ? 'swa' : 'member').at(-1);
}

/** Several runs' stores as one source of snapshots, each id prefixed with its run's index. */
function runsSource(stores: SnapshotStore[], ids: string[]): SnapshotSource {
  return {
    list: async () => ids.map((id, i) => ({ id: `${i}:${id}` })),
    load: (key) => {
      const at = key.indexOf(':');
      return (stores[Number(key.slice(0, at))] as SnapshotStore).load(key.slice(at + 1));
    },
  };
}

/**
 * `onerun eval DIR DIR…`: the final models of several runs (e.g. baselines of different seeds)
 * as one ensemble — the deep ensemble the FGE paper compares against — scored on the test split
 * of the first run's data, each member also alone. The runs must share architecture and data set.
 */
export async function evalRuns(
  dirs: string[],
  options: { dataDir?: string } = {},
): Promise<RunsEnsembleResult> {
  const folders = dirs.map((dir) => new RunFolder(dir));
  const runs = [];
  for (const folder of folders) {
    const runFile = await folder.requireRunFile();
    await checkMembers(folder, await folder.readProgress());
    const store = folder.members();
    const entry = finalModel(runFile.config, await store.list());
    if (!entry) {
      throw new RunFolderError(
        `${folder.dir} has no final model yet; finish it with onerun train --out ${folder.dir}.`,
      );
    }
    runs.push({ folder, config: runFile.config, store, entry });
  }
  const first = runs[0]?.config as RunConfig;
  for (const run of runs.slice(1)) {
    if (architectureOf(run.config) !== architectureOf(first) || run.config.data !== first.data) {
      throw new UsageError(
        `${run.folder.dir} trained ${architectureOf(run.config)} on ${run.config.data}, but ${runs[0]?.folder.dir} trained ${architectureOf(first)} on ${first.data}; an ensemble of runs needs one architecture and one data set.`,
      );
    }
  }
  const data = await loadDataFor(first, options.dataDir);
  try {
    const source = runsSource(
      runs.map((r) => r.store),
      runs.map((r) => r.entry.id),
    );
    const ensemble = await Ensemble.fromStore(source, { stream: true });
    try {
      const xs = data.test.inputs();
      const evaluation = await ensemble
        .evaluate(xs, data.test.labels, { bins: 15 })
        .finally(() => xs.dispose());
      const members = runs.map((run, i) => ({
        dir: run.folder.dir,
        method: run.config.method,
        seed: run.config.seed,
        id: run.entry.id,
        ...pick(evaluation.members[i] as ClassificationMetrics),
      }));
      const result = {
        members,
        ensemble: pick(evaluation.ensemble),
        sizeCurve: evaluation.sizeCurve
          .filter((p) => p.from === 'first')
          .map((p) => ({ k: p.k, ...pick(p) })),
        disagreement: evaluation.disagreement,
        testSize: data.test.size,
      };
      return { ...result, table: runsTable(result) };
    } finally {
      ensemble.dispose();
    }
  } finally {
    data.dispose();
  }
}

function runsTable(result: Omit<RunsEnsembleResult, 'table'>): Table {
  return {
    columns: ['model', 'seed', ...METRIC_COLUMNS],
    rows: [
      [`ensemble of ${result.members.length} runs`, '', ...metricCells(result.ensemble)],
      ...result.members.map((m) => [`${m.method} ${m.dir}`, String(m.seed), ...metricCells(m)]),
    ],
  };
}
