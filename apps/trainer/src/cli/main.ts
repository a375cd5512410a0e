#!/usr/bin/env node
import { main } from './program.js';

// Ctrl-C: show the cursor the progress bar hid, say how to go on, exit as interrupted. Runs
// resume from their last checkpoint when the same command is given again.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (process.stderr.isTTY) process.stderr.write('\x1b[?25h\n');
    process.stderr.write(
      'onerun: interrupted; run the same command again to resume from the last checkpoint.\n',
    );
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

// `onerun … | head`: a closed pipe ends the output, not the program with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv);
