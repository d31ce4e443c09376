// The webgpu-rnn command line (commander): builds the program from one file per command (src/cli/commands/) and
// runs it. `runCli(args)` runs one command and returns its exit code (see docs/errors.md):
//
//   0  success
//   1  any other failure (WebGPU unavailable or failing: GpuError, internal errors, stdout full)
//   2  bad input: InputError (bad model/data file, missing file), unknown command or option, bad option value
//   3  NonFiniteError: a loss, output or gradient overflowed to Infinity/NaN during the run
//   4  verify (and --check): WebGPU and the CPU reference differ beyond the documented tolerance
//   129, 130, 143  ended by SIGHUP, SIGINT, SIGTERM while writing a file (its temporary file removed)
//
// Errors print one line `webgpu-rnn: <message>` on stderr (with the stack when WEBGPU_RNN_DEBUG=1); commands run
// with --json also print `{"error": {"code", "field", "message"}}` on stdout. Results go to stdout only once the
// whole computation has succeeded, so a failed command prints nothing else on stdout.

import { Command, CommanderError } from 'commander';
import { register as registerBench } from './commands/bench.ts';
import { registerExperiments } from './commands/experiments.ts';
import { registerExport } from './commands/export.ts';
import { registerForecast } from './commands/forecast.ts';
import { registerForward } from './commands/forward.ts';
import { registerGenData } from './commands/gen-data.ts';
import { registerGrad } from './commands/grad.ts';
import { registerImport } from './commands/import.ts';
import { registerStatquest } from './commands/statquest.ts';
import { registerVerify } from './commands/verify.ts';
import { EXIT, errorJson, errorMessage, exitCodeOf, MismatchError, processIO, type CliIO } from './io.ts';

// The shared pieces, for callers that imported them from here.
export { EXIT, exitCodeOf, MismatchError, processIO, type CliIO } from './io.ts';
import { addAdapterOption, addVerboseOption } from './run-options.ts';
import { version } from './version.ts';
export { backendOption, integer } from './options.ts';
export { withEngine } from './run.ts';

/** Builds the commander program. Commands throw to fail; runCli maps the error to an exit code. */
export function buildProgram(io: CliIO): Command {
  const program = new Command('webgpu-rnn');
  program
    .description(
      'Elman RNN forward pass and backpropagation through time on WebGPU, checked against a float64 CPU reference.',
    )
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option(
      '--verbose',
      "let Dawn's own messages reach stderr as Dawn prints them (by default its known noise is dropped; the same as WEBGPU_RNN_LOG=dawn)",
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.out(s),
      writeErr: (s) => io.err(s),
      outputError: () => undefined, // runCli prints every error, commander's included, in one place
    })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 other failure (e.g. WebGPU unavailable), 2 bad input or usage, 3 non-finite values during
the run, 4 verify found WebGPU and the CPU reference differing beyond tolerance; 130/143/129 interrupted by
SIGINT/SIGTERM/SIGHUP. With --json, a failure also prints {"error": {"code", "field", "message"}} on stdout.

Data files: JSON {"inputs": N×T×I, "targets": N×O ("last") or N×T×O ("all")}, or the binary .rnnb format.
A model may be a JSON file or the preset name "statquest".`,
    );

  registerStatquest(program, io);
  registerGrad(program, io);
  registerForward(program, io);
  registerVerify(program, io);
  registerGenData(program, io);
  registerBench(program, io);
  registerExperiments(program, io);
  registerForecast(program, io);
  registerImport(program, io);
  registerExport(program, io);
  addAdapterOption(program);
  addVerboseOption(program);
  return program;
}

/** True when `args` run a command that has a boolean --json option and ask for it (its errors are then JSON too). */
function wantsJson(program: Command, args: string[]): boolean {
  const cmd = program.commands.find((c) => c.name() === args[0]);
  if (!cmd) return false;
  const opt = cmd.options.find((o) => o.long === '--json');
  if (!opt || opt.required || opt.optional) return false; // bench's --json <file> names a file
  const end = args.indexOf('--');
  return args.slice(1, end < 0 ? undefined : end).includes('--json');
}

/** Prints an error the CLI way: one line `webgpu-rnn: <message>` (and the stack in debug mode). */
function printError(e: unknown, io: CliIO): void {
  io.err(`webgpu-rnn: ${errorMessage(e)}\n`);
  if (io.debug && e instanceof Error && e.stack && !(e instanceof CommanderError)) io.err(`${e.stack}\n`);
}

/** Runs the CLI on `args` (the arguments after the program name) and returns the exit code. */
export async function runCli(args: string[], io: CliIO = processIO()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(args, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    // --help and --version end through a CommanderError with exit code 0: nothing to report.
    if (e instanceof CommanderError && e.exitCode === 0) return EXIT.ok;
    // Help shown for a missing command (`webgpu-rnn` alone): commander has printed it; the exit code says the rest.
    if (e instanceof CommanderError && (e.code === 'commander.help' || e.code === 'commander.helpDisplayed'))
      return exitCodeOf(e);
    printError(e, io);
    // A check that failed (exit 4) has already printed its report, which says so: stdout stays one JSON document.
    if (wantsJson(program, args) && !(e instanceof MismatchError)) {
      try {
        await io.out(errorJson(e));
      } catch {
        // stdout is gone: the line on stderr has said it
      }
    }
    return exitCodeOf(e);
  }
}
