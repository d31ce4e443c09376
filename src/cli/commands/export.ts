// `webgpu-rnn export --model M.json --out F.safetensors|F.onnx`: a model as a PyTorch state_dict (safetensors) or an
// ONNX graph (opset 14), written atomically (src/interop/export.ts). A model with normalization exports its weights
// only, which stderr says.

import type { Command } from 'commander';
import { writeFileAtomic } from '../../io/atomic.ts';
import { readModelFile, writing } from '../../io/files.ts';
import { exportModel } from '../../interop/export.ts';
import { checkOutputsAreNotInputs, outputKind, printable, type CliIO } from '../io.ts';

interface ExportCommandOptions {
  model: string;
  out: string;
  sequenceLens?: boolean;
  json?: boolean;
}

export function registerExport(program: Command, io: CliIO): void {
  program
    .command('export')
    .description('a model as a PyTorch state_dict (.safetensors) or an ONNX graph (.onnx, opset 14)')
    .requiredOption('--model <file>', 'model JSON file, or a preset name (statquest)')
    .requiredOption('--out <file>', '.safetensors (rnn.* and fc.* tensors, float32) or .onnx; written atomically')
    .option('--sequence-lens', 'ONNX: add the optional graph input sequence_lens [N] (int32)')
    .option('--json', 'print a summary as JSON')
    .action(async (o: ExportCommandOptions) => {
      const format = outputKind(o.out, '--out', ['safetensors', 'onnx'] as const)!;
      checkOutputsAreNotInputs([['--out', o.out]], [['--model', o.model]]);
      const model = readModelFile(o.model);
      const r = exportModel(model, format, { sequenceLens: o.sequenceLens === true });
      writing(o.out, () => writeFileAtomic(o.out, (write) => write(r.bytes)));
      for (const n of r.notes) io.err(`webgpu-rnn: export: ${printable(n)}\n`);
      await io.out(
        o.json
          ? JSON.stringify({ model: o.model, out: o.out, format, bytes: r.bytes.length, notes: r.notes }) + '\n'
          : `wrote ${printable(o.out)} (${format}, ${r.bytes.length} bytes)\n`,
      );
    });
}
