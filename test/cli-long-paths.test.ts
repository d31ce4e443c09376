// Error messages stay one readable line: a word longer than 240 characters (a 100,000-character file name) is shown
// as its start and end around the count of characters left out, on stderr and in the --json error object.

import { describe, expect, it } from 'vitest';
import { MAX_SHOWN_WORD, shortenLongWords } from '../src/cli/io.ts';
import { cli } from './helpers/cli.ts';

describe('long file names in error messages', () => {
  it('a 100k-character --data name gives a short error line naming its start and end', async () => {
    const name = `/tmp/${'a'.repeat(100_000)}.csv`;
    const r = await cli('train', '--backend', 'cpu', '--data', name, '--json');
    expect(r.code).toBe(2);
    expect(r.stderr.length).toBeLessThan(1000);
    expect(r.stderr).toMatch(/^webgpu-rnn: \/tmp\/a{115}…\[99810 characters\]…a{75}\.csv: /);
    expect(r.stderr.split('\n').length).toBe(2);
    const err = (JSON.parse(r.stdout) as { error: { message: string } }).error;
    expect(err.message.length).toBeLessThan(1000);
    expect(err.message).toContain('…[99810 characters]…');
  });

  it('variants: words up to the limit are kept whole; several long words are each shortened', () => {
    const ok = 'x'.repeat(MAX_SHOWN_WORD);
    expect(shortenLongWords(`a ${ok} b`)).toBe(`a ${ok} b`);
    const long = 'y'.repeat(MAX_SHOWN_WORD + 1);
    expect(shortenLongWords(`${long} and ${long}`)).toBe(
      `${'y'.repeat(120)}…[41 characters]…${'y'.repeat(80)} and ${'y'.repeat(120)}…[41 characters]…${'y'.repeat(80)}`,
    );
  });
});
