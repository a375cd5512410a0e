import { RunFolderError } from '../errors.js';
import type { RunFolder } from './folder.js';
import type { RunProgress } from './records.js';

/**
 * Checks a run's member store against its `progress.json` before anything is scored: every
 * member the run recorded collecting must be listed (a store that lost one would score a smaller
 * ensemble without a word; `RunFolderError` naming the missing ids). Returns a note when the run
 * is unfinished (its ensemble is partial), else `undefined`.
 */
export async function checkMembers(
  folder: RunFolder,
  progress: RunProgress | undefined,
): Promise<string | undefined> {
  if (!progress) {
    return `${folder.dir} has no progress.json: scoring whatever its store holds, which no record vouches for`;
  }
  const listed = new Set((await folder.members().list()).map((e) => e.id));
  const missing = progress.collections
    .map((c) => c.id)
    .filter((id): id is string => id !== undefined && !listed.has(id));
  if (missing.length > 0) {
    throw new RunFolderError(
      `${folder.path('members')} lacks ${missing.length === 1 ? 'the member' : 'members'} ${missing.join(', ')} that ${folder.path('progress')} records collecting; expected every collected member (restore them, or start the run over with onerun train --force).`,
    );
  }
  if (progress.status !== 'done') {
    const members = progress.collections.filter((c) => c.id !== undefined).length;
    return `${folder.dir} is an unfinished run (${progress.history.length} epochs done): scoring the ${members} member${members === 1 ? '' : 's'} collected so far, not its final ensemble`;
  }
  return undefined;
}
