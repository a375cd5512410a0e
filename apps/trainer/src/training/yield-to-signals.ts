let last = 0;

/**
 * Lets the event loop run (signal handlers: Ctrl-C, SIGTERM) if it has not for 200 ms. Long
 * loops call it often: tfjs's cpu backend resolves its reads as microtasks, so an `await` alone
 * never lets a signal through.
 */
export async function yieldToSignals(): Promise<void> {
  const now = performance.now();
  if (now - last < 200) return;
  last = now;
  await new Promise<void>((resolve) => setImmediate(resolve));
}
