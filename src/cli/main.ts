// Entry point of the `webgpu-rnn` command (bin/webgpu-rnn.js imports this file): runs the CLI on process.argv
// and exits with its code. The explicit process.exit matters: the Dawn `webgpu` module can keep Node alive.

import { removeTempFilesOnSignals } from '../io/atomic.ts';
import { runCli } from './app.ts';

// SIGINT, SIGTERM or SIGHUP during a file write removes the temporary file and exits 130, 143 or 129.
removeTempFilesOnSignals();
const code = await runCli(process.argv.slice(2));
// Let stdout and stderr drain before exiting (writes are ordered, so these callbacks come after earlier writes).
await Promise.all([
  new Promise<void>((resolve) => process.stdout.write('', () => resolve())),
  new Promise<void>((resolve) => process.stderr.write('', () => resolve())),
]);
process.exit(code);
