// How tests start the CLI as a child process: the TypeScript sources through tsx, so a test sees the code as it is
// now (bin/webgpu-rnn.js runs the built dist/, which test/consumer.test.ts checks in the packed package).

/** Node arguments before the CLI's own: `spawn(process.execPath, [...CLI, 'grad', …], { cwd: root })`. */
export const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
/** The same as a shell command line (run from the repository root). */
export const CLI_SHELL = 'node --import tsx src/cli/main.ts';
