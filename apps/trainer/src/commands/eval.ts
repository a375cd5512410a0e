import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotEntry } from '@onerun/snapshots';
import { UsageError } from '../errors.js';
import { evaluateMembers, type RunMetrics } from '../evaluation/score-run.js';
import { swagScoringFor } from '../evaluation/swag-average.js';
import { evalTable } from '../report/content.js';
import type { Table } from '../report/html.js';
import { RunFolder } from '../run-folder/folder.js';
import { checkMembers } from '../run-folder/members-check.js';
import type { RunConfig } from '../training/config.js';
import { loadDataFor } from './train.js';

/** `onerun eval DIR`: the test metrics of a run's stored models (read-only). */
export async function evalRun(
  dir: string,
  options: { dataDir?: string } = {},
): Promise<{
  dir: string;
  config: RunConfig;
  metrics: RunMetrics;
  table: Table;
  /** What to know about what was scored (an unfinished run's partial ensemble). */
  notes: string[];
}> {
  const folder = new RunFolder(dir);
  if (existsSync(join(folder.dir, 'compare.json'))) {
    throw new UsageError(
      `${folder.dir} is a comparison; evaluate one of its runs, e.g. onerun eval ${join(dir, 'sse')}.`,
    );
  }
  const runFile = await folder.requireRunFile();
  const progress = await folder.readProgress();
  const note = await checkMembers(folder, progress);
  const data = await loadDataFor(runFile.config, options.dataDir);
  try {
    const stepOf = new Map((progress?.collections ?? []).map((c) => [c.id, c.step]));
    const metrics = await evaluateMembers(
      runFile.config.method,
      folder.members(),
      data.test,
      (e: SnapshotEntry) => stepOf.get(e.id) ?? e.step + 1,
      swagScoringFor(runFile.config, folder.path('swag'), data.train),
    );
    return {
      dir: folder.dir,
      config: runFile.config,
      metrics,
      table: evalTable(metrics),
      notes: note ? [note] : [],
    };
  } finally {
    data.dispose();
  }
}
