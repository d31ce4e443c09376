// Entry point of the `webgpu-rnn` command (bin/webgpu-rnn.js imports this file): runs the CLI on process.argv
// and exits with its code. The explicit process.exit matters: the Dawn `webgpu` module can keep Node alive.
// A bare `--version` / `-V` answers before the commands are loaded, so it starts in a fraction of the time. Where
// stderr is a socket or a file, a command that may open Dawn runs in a child process whose stderr is filtered
// (src/cli/dawn-child.ts).

import { version } from './version.ts';

const args = process.argv.slice(2);
let code: number;
let dawnChild: typeof import('./dawn-child.ts');
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${version()}\n`);
  code = 0;
} else if ((dawnChild = await import('./dawn-child.ts')).wantsDawnChild(args)) {
  // A stderr the in-process filter of Dawn's noise cannot serve (a socket, a file): the command runs in a child.
  code = await dawnChild.runDawnChild(args);
} else {
  const [{ removeTempFilesOnSignals }, { runCli }] = await Promise.all([import('../io/atomic.ts'), import('./app.ts')]);
  // SIGINT, SIGTERM or SIGHUP during a file write removes the temporary file and exits 130, 143 or 129.
  removeTempFilesOnSignals();
  dawnChild.followParent();
  code = await runCli(args);
}
// Let stdout and stderr drain before exiting (writes are ordered, so these callbacks come after earlier writes).
await Promise.all([
  new Promise<void>((resolve) => process.stdout.write('', () => resolve())),
  new Promise<void>((resolve) => process.stderr.write('', () => resolve())),
]);
process.exit(code);
