import type {
  CollectionPoint,
  EpochRecord,
  RunProgress,
  SwaMilestone,
} from '../run-folder/records.js';

/** Time and examples of the epochs trained in one `trainRun` call. */
export interface TrainingTally {
  trainedSeconds: number;
  /** Milliseconds spent inside the callbacks. */
  callbackMs: number;
  trainedExamples: number;
}

/**
 * The one owner of a run's progress (what `progress.json` holds) and of this call's tally: every
 * change to either goes through a method here, named after what happened in training.
 */
export class RunRecorder {
  readonly tally: TrainingTally = { trainedSeconds: 0, callbackMs: 0, trainedExamples: 0 };

  constructor(
    private readonly state: RunProgress,
    private readonly persist?: (progress: RunProgress) => Promise<void>,
  ) {}

  /** The progress so far (read it; change it through the methods). */
  get progress(): Readonly<RunProgress> {
    return this.state;
  }

  /** Epochs done at the last checkpoint (0 when none was saved). */
  get lastGoodEpoch(): number {
    return this.state.checkpoint?.epoch ?? 0;
  }

  /** Collections made after update `step` (1-based): those of a phase resumed from there. */
  collectionsAfter(step: number): number {
    return this.state.collections.filter((c) => c.step > step).length;
  }

  /** A model collected (snapshot saved or folded into the average). */
  collected(point: CollectionPoint): void {
    this.state.collections.push(point);
  }

  /** The mean training loss of the window of updates ending at `step` (1-based). */
  lossRead(step: number, loss: number): void {
    this.state.lossCurve.push({ step, loss });
  }

  /** Milliseconds spent inside the callbacks. */
  callbackTime(ms: number): void {
    this.tally.callbackMs += ms;
  }

  /** An epoch trained (`examples` of it) and scored. */
  epochDone(record: EpochRecord, examples: number): void {
    this.tally.trainedSeconds += record.seconds;
    this.tally.trainedExamples += examples;
    this.state.trainSeconds += record.seconds;
    this.state.history.push(record);
  }

  /** FGE's start model saved as snapshot `id`, after `step` updates. */
  fgeStartSaved(id: string, step: number): void {
    this.state.start = { id, step };
  }

  /** An SWA model saved before the end of the run (`--swa-score-at`). */
  swaMilestoneSaved(milestone: SwaMilestone): void {
    this.state.swaMilestones = [...(this.state.swaMilestones ?? []), milestone];
  }

  /** A resume point saved: recorded, then the progress persisted (atomically, by the caller's hook). */
  async checkpointSaved(checkpoint: NonNullable<RunProgress['checkpoint']>): Promise<void> {
    this.state.checkpoint = checkpoint;
    await this.save();
  }

  /** Persists the progress as it stands. */
  async save(): Promise<void> {
    await this.persist?.(this.state);
  }
}
