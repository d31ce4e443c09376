// `webgpu-rnn statquest`: the seed notes' worked example, run and compared with the closed forms.

import type { Command } from 'commander';
import type { BackendChoice } from '../../backend.ts';
import { formatStatquest, statquestReport } from '../../statquest.ts';
import type { CliIO } from '../io.ts';
import { backendOption } from '../options.ts';
import { withEngine } from '../run.ts';

export function registerStatquest(program: Command, io: CliIO): void {
  program
    .command('statquest')
    .description("run the seed notes' worked example (w1=1.8, w2=-0.5, w3=1.1, ReLU) and compare with the closed forms")
    .addOption(backendOption())
    .option('--json', 'print the full report as JSON')
    .action(async (o: { backend: BackendChoice; json?: boolean }) => {
      const text = await withEngine(o.backend, io, async (engine) => {
        const report = await statquestReport(engine);
        return o.json ? JSON.stringify(report, null, 2) + '\n' : formatStatquest(report).replace(/\n?$/, '\n');
      });
      await io.out(text);
    });
}
