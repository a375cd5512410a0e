/**
 * Runs async jobs one at a time, in the order they were queued. A job that fails rejects its own
 * promise only; the jobs queued after it still run.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
