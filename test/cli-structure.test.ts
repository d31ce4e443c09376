// The CLI's layout in src/cli/: one file per command under commands/, and no command (nor io, options, progress or
// run) importing app.ts, the program that imports them all, so there is no import cycle.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('the CLI layer: one file per command, no import cycle', () => {
  it('no command file imports src/cli/app.ts, and grad, forward, verify, gen-data, statquest have their own files', () => {
    const commands = join(root, 'src', 'cli', 'commands');
    const files = readdirSync(commands);
    for (const name of [
      'grad',
      'forward',
      'verify',
      'gen-data',
      'statquest',
      'train',
      'population',
      'landscape',
      'unroll-study',
      'bench',
    ])
      expect(files).toContain(`${name}.ts`);
    for (const f of files) expect(readFileSync(join(commands, f), 'utf8'), f).not.toMatch(/from '\.\.\/app\.ts'/);
    for (const f of ['io.ts', 'options.ts', 'progress.ts', 'run.ts'])
      expect(readFileSync(join(root, 'src', 'cli', f), 'utf8'), f).not.toMatch(
        /from '\.\/app\.ts'|from '\.\/commands\//,
      );
  });
});
