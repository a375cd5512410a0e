import {
  type ClassificationMetrics,
  classificationMetrics,
  Ensemble,
  KIND_TAG,
  type ReliabilityBin,
  reliabilityDiagram,
} from '@onerun/ensemble';
import type { SnapshotEntry, SnapshotStore } from '@onerun/snapshots';
import type { Split } from '../data/load.js';
import { RunFolderError } from '../errors.js';
import { currentKind, MILESTONE_KINDS, VARIANTS } from '../run-folder/variants.js';
import type { MethodName } from '../training/config.js';
import { milestoneSwagName } from '../training/swa-milestone.js';
import { type ExampleScores, exampleScores } from './example-scores.js';
import { type SwagScore, type SwagScoring, scoreSwag } from './swag-average.js';

/**
 * Members held in memory at once when evaluating: then members of one stackable architecture
 * (the MLP) run as one stacked model (`@onerun/ensemble`); above this, they are streamed one at a
 * time to bound memory.
 */
const IN_MEMORY_MEMBER_BYTES = 256 * 2 ** 20;

function fitsInMemory(members: readonly SnapshotEntry[]): boolean {
  return members.reduce((sum, m) => sum + m.byteSize, 0) <= IN_MEMORY_MEMBER_BYTES;
}

/** Metrics of one stored model, with where it came from. */
export interface ModelScore extends ClassificationMetrics {
  id: string;
  kind: string;
  /** Updates done in the run when it was saved. */
  step: number;
}

/** Test metrics of a run: its result model or ensemble, the parts, and how they add up. */
export interface RunMetrics {
  method: MethodName;
  /** What `result` measures: `ensemble of k`, `single model`, `average of k` (SWA). */
  resultLabel: string;
  /** The method's result on the test set. */
  result: ClassificationMetrics;
  /** Number of models in the result (ensemble members, or models averaged by SWA). */
  models: number;
  /** Every stored model, scored alone. */
  members: ModelScore[];
  /** Ensemble of the first k members, k = 1…M (ensemble methods). */
  sizeCurve: ({ k: number } & ClassificationMetrics)[];
  /**
   * Ensemble of the last k members, k = 1…M (ensemble methods; absent in runs scored before it
   * was added): the last snapshot alone, the last few (SSE's and FGE's late, well-trained
   * members), up to all of them.
   */
  lastK?: ({ k: number } & ClassificationMetrics)[];
  /** Mean pairwise disagreement of the members' predictions (ensemble methods). */
  disagreement?: number;
  /** FGE: the model its cycles start from, scored alone (absent in runs trained before it was kept). */
  start?: ModelScore;
  /** Reliability bins of the result. */
  reliability: ReliabilityBin[];
  /** SWA: the last SGD iterate, the average with stale BN statistics, and with recomputed ones. */
  swa?: {
    sgd: ClassificationMetrics;
    staleBatchNorm: ClassificationMetrics;
    averaged: number;
    /** The SWA model at earlier epochs of the run (`--swa-score-at`), oldest first. */
    atEpochs?: SwaAtEpoch[];
  };
  /** SWA runs with a SWAG rank: the Bayesian model average of SWAG draws. */
  swag?: Omit<SwagScore, 'reliability'>;
  testSize: number;
}

/** The SWA model saved at an epoch before the end of the run, scored. */
export interface SwaAtEpoch {
  epoch: number;
  averaged: number;
  /** Batch norm recomputed. */
  result: ClassificationMetrics;
  staleBatchNorm: ClassificationMetrics;
  swag?: Omit<SwagScore, 'reliability'>;
}

const BINS = 15;

/**
 * Members of an ensemble method; the final models of SWA: the snapshots whose `tags.kind` is
 * `kind` (@onerun/ensemble's `KIND_TAG`, which `Ensemble.fromStore(store, { kind })` selects by).
 */
export function byKind(entries: SnapshotEntry[], kind: string): SnapshotEntry[] {
  return entries.filter((e) => currentKind(e.tags?.[KIND_TAG]) === kind);
}

async function scoreOne(store: SnapshotStore, entry: SnapshotEntry, test: Split) {
  const ensemble = await Ensemble.fromStore(store, { ids: [entry.id] });
  try {
    const xs = test.inputs();
    const probs = await ensemble.predict(xs).finally(() => xs.dispose());
    try {
      const metrics = await classificationMetrics(probs, test.labels, { bins: BINS });
      const reliability = await reliabilityDiagram(probs, test.labels, { bins: BINS });
      return { metrics, reliability, examples: await exampleScores(probs, test.labels) };
    } finally {
      probs.dispose();
    }
  } finally {
    ensemble.dispose();
  }
}

/** A run's test metrics and its result's score on each test example (for paired intervals). */
export interface RunEvaluation {
  metrics: RunMetrics;
  examples: ExampleScores;
}

/** `evaluateRun`'s metrics alone. */
export async function evaluateMembers(
  ...args: Parameters<typeof evaluateRun>
): Promise<RunMetrics> {
  return (await evaluateRun(...args)).metrics;
}

/**
 * Scores a run's stored models on the test split with `@onerun/ensemble`: for baseline, SSE and
 * FGE the ensemble of its members (metrics, size curve, disagreement, reliability); for SWA the
 * averaged model with recomputed batch norm, next to the same average with the last iterate's
 * statistics and the last SGD iterate. Also the result's score on each test example.
 */
export async function evaluateRun(
  method: MethodName,
  store: SnapshotStore,
  test: Split,
  /** Updates done in the run at each snapshot (FGE's own step count starts at its phase). */
  stepOf: (entry: SnapshotEntry) => number = (entry) => entry.step + 1,
  /** SWA runs with a SWAG rank: how to score SWAG's model average. */
  swag?: SwagScoring,
): Promise<RunEvaluation> {
  const entries = await store.list();
  const base = { method, testSize: test.size };
  if (method === 'swa') {
    const [swa] = byKind(entries, 'swa');
    const [stale] = byKind(entries, VARIANTS.staleBatchNorm);
    const [sgd] = byKind(entries, 'sgd');
    if (!swa || !stale || !sgd) {
      throw new RunFolderError(
        'The run has no finished SWA models (swa, swa-stale-bn, sgd snapshots); finish it with onerun train --out DIR.',
      );
    }
    const scored = {
      swa: await scoreOne(store, swa, test),
      stale: await scoreOne(store, stale, test),
      sgd: await scoreOne(store, sgd, test),
    };
    const averaged = Number(swa.tags?.averaged ?? 0);
    const atEpochs = await scoreSwaMilestones(store, entries, test, swag);
    const metrics: RunMetrics = {
      ...base,
      resultLabel: `average of ${averaged}`,
      result: scored.swa.metrics,
      models: averaged,
      members: [
        { id: sgd.id, kind: 'sgd', step: stepOf(sgd), ...scored.sgd.metrics },
        {
          id: stale.id,
          kind: VARIANTS.staleBatchNorm,
          step: stepOf(stale),
          ...scored.stale.metrics,
        },
        { id: swa.id, kind: 'swa', step: stepOf(swa), ...scored.swa.metrics },
      ],
      sizeCurve: [{ k: 1, ...scored.swa.metrics }],
      reliability: scored.swa.reliability,
      swa: {
        sgd: scored.sgd.metrics,
        staleBatchNorm: scored.stale.metrics,
        averaged,
        ...(atEpochs.length > 0 ? { atEpochs } : {}),
      },
      ...(swag
        ? { swag: withoutReliability(await scoreSwag(store, swa.id, test, swag, BINS)) }
        : {}),
    };
    return { metrics, examples: scored.swa.examples };
  }
  const members = byKind(entries, 'member');
  if (members.length === 0) {
    throw new RunFolderError(
      'The run has no collected models yet; finish it with onerun train --out DIR.',
    );
  }
  const [startEntry] = byKind(entries, 'start');
  const start = startEntry
    ? {
        id: startEntry.id,
        kind: 'start',
        step: stepOf(startEntry),
        ...(await scoreOne(store, startEntry, test)).metrics,
      }
    : undefined;
  const ensemble = await Ensemble.fromStore(store, {
    ids: members.map((m) => m.id),
    stream: !fitsInMemory(members),
  });
  try {
    const xs = test.inputs();
    let evaluation: Awaited<ReturnType<typeof ensemble.evaluate>>;
    let reliability: ReliabilityBin[];
    let examples: ExampleScores;
    try {
      evaluation = await ensemble.evaluate(xs, test.labels, { bins: BINS });
      const probs = await ensemble.predict(xs);
      try {
        reliability = await reliabilityDiagram(probs, test.labels, { bins: BINS });
        examples = await exampleScores(probs, test.labels);
      } finally {
        probs.dispose();
      }
    } finally {
      xs.dispose();
    }
    const metrics: RunMetrics = {
      ...base,
      resultLabel: members.length === 1 ? 'single model' : `ensemble of ${members.length}`,
      result: evaluation.ensemble,
      models: members.length,
      members: evaluation.members.map((m, i) => ({
        ...pick(m),
        id: members[i]!.id,
        kind: 'member',
        step: stepOf(members[i]!),
      })),
      sizeCurve: evaluation.sizeCurve
        .filter((p) => p.from === 'first')
        .map((p) => ({ k: p.k, ...pick(p) })),
      lastK: evaluation.sizeCurve
        .filter((p) => p.from === 'last')
        .map((p) => ({ k: p.k, ...pick(p) })),
      disagreement: evaluation.disagreement,
      ...(start ? { start } : {}),
      reliability,
    };
    return { metrics, examples };
  } finally {
    ensemble.dispose();
  }
}

/** The SWA models a run saved before its end (`--swa-score-at`), each with and without the BN recompute. */
async function scoreSwaMilestones(
  store: SnapshotStore,
  entries: SnapshotEntry[],
  test: Split,
  swag: SwagScoring | undefined,
): Promise<SwaAtEpoch[]> {
  const stale = new Map(byKind(entries, MILESTONE_KINDS.stale).map((e) => [e.tags?.epoch, e]));
  const scored: SwaAtEpoch[] = [];
  for (const entry of byKind(entries, MILESTONE_KINDS.bn)) {
    const epoch = Number(entry.tags?.epoch);
    const staleEntry = stale.get(entry.tags?.epoch);
    if (!staleEntry) {
      throw new RunFolderError(
        `The SWA model saved at epoch ${epoch} (${entry.id}) has no stale-BN twin; the run folder is damaged.`,
      );
    }
    scored.push({
      epoch,
      averaged: Number(entry.tags?.averaged ?? 0),
      result: (await scoreOne(store, entry, test)).metrics,
      staleBatchNorm: (await scoreOne(store, staleEntry, test)).metrics,
      ...(swag
        ? {
            swag: withoutReliability(
              await scoreSwag(
                store,
                entry.id,
                test,
                swag,
                BINS,
                `${milestoneSwagName(epoch)}.json`,
              ),
            ),
          }
        : {}),
    });
  }
  return scored.sort((a, b) => a.epoch - b.epoch);
}

function withoutReliability({
  reliability: _,
  ...rest
}: SwagScore): Omit<SwagScore, 'reliability'> {
  return rest;
}

/** The four metrics alone, without whatever else the object carries. */
export function pick(m: ClassificationMetrics): ClassificationMetrics {
  return { accuracy: m.accuracy, nll: m.nll, ece: m.ece, brier: m.brier };
}
