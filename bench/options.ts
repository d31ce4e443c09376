// Option parsing for the scripts in bench/: commander with the CLI's own number parsers (src/cli/options.ts), so a
// bad value is one line naming the option and exit code 2, as in the CLI.

import { Command, InvalidArgumentError } from 'commander';

export { integer, number, parseBytes } from '../src/cli/options.ts';

/** A comma-separated list of integers ≥ 1 (e.g. `--h 1,16,64`). */
export function positiveList(v: string): number[] {
  const xs = v.split(',').map((s) => s.trim());
  if (xs.some((s) => !/^\d+$/.test(s) || Number(s) < 1)) {
    throw new InvalidArgumentError(`It must list integers ≥ 1, separated by commas, got "${v}".`);
  }
  return xs.map(Number);
}

/** Parses process.argv for a bench script: `build` declares the options; unknown options and bad values exit 2. */
export function benchOptions<T>(name: string, description: string, build: (cmd: Command) => Command): T {
  const cmd = build(new Command(name).description(description).helpOption('-h, --help', 'show help'));
  cmd.showSuggestionAfterError(true).allowExcessArguments(false);
  cmd.configureOutput({ outputError: (text, write) => write(`${name}: ${text.replace(/^error: /, '').trim()}\n`) });
  cmd.exitOverride((err) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
    process.exit(2);
  });
  cmd.parse(process.argv);
  return cmd.opts<T & object>();
}
