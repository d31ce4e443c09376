// Entry point of the `webgpu-rnn` command (bin/webgpu-rnn.js imports this file): runs the CLI on process.argv
// and exits with its code. The explicit process.exit matters: the Dawn `webgpu` module can keep Node alive.

import { runCli } from './app.ts';

const code = await runCli(process.argv.slice(2));
// Let stdout and stderr drain before exiting (writes are ordered, so these callbacks come after earlier writes).
await Promise.all([
  new Promise<void>((resolve) => process.stdout.write('', () => resolve())),
  new Promise<void>((resolve) => process.stderr.write('', () => resolve())),
]);
process.exit(code);
