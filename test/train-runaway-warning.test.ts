// A training run whose loss runs away without overflowing (Adam with --lr 1e10: weights near 1e10, a finite loss)
// exits 0 but warns on stderr and in the JSON report's `warnings`, naming the loss at the start and at the end; a
// run that learns does not warn.

import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.ts';

interface Report {
  finalLoss: number;
  history: { step: number; loss: number }[];
  warnings: string[];
}

describe('runaway training is reported', () => {
  it('adam --lr 1e10 on the seed data: exit 0 with one warning naming the start and end losses', async () => {
    const r = await cli('train', '--backend', 'cpu', '--optimizer', 'adam', '--lr', '1e10', '--steps', '200');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^webgpu-rnn: warning: the training loss ran away: from 0\.88\d+ at step 0 to [\d.e+]+ at step 199 \(\d+ orders of magnitude higher\); the weights kept are the last ones; try a smaller --lr than 10000000000, or --clip-norm\n$/,
    );
    const j = await cli('train', '--backend', 'cpu', '--optimizer', 'adam', '--lr', '1e10', '--steps', '200', '--json');
    const rep = JSON.parse(j.stdout) as Report;
    expect(rep.history.at(-1)!.loss / rep.history[0].loss).toBeGreaterThan(1e6);
    expect(rep.warnings.length).toBe(1);
    expect(rep.warnings[0]).toContain('the training loss ran away');
  });

  it('variants: the sine data runs away too; a run that learns has no warning', async () => {
    const r = await cli(
      'train',
      '--backend',
      'cpu',
      '--data',
      'sine',
      '--samples',
      '32',
      '--lr',
      '1e10',
      '--steps',
      '20',
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('the training loss ran away');
    const ok = await cli('train', '--backend', 'cpu', '--steps', '200', '--json');
    expect(ok.stderr).toBe('');
    expect((JSON.parse(ok.stdout) as Report).warnings).toEqual([]);
  });
});
