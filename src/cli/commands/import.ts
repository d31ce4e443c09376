// `webgpu-rnn import FILE --out M.json`: a PyTorch state_dict in .safetensors, or a torch.onnx.export file, as our
// model JSON (src/interop/import.ts). What the import had to decide (nn.RNN's activation, the output mode) is one
// line each on stderr; a bad file is one line naming the problem, exit 2.

import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { Option, type Command } from 'commander';
import { InputError } from '../../errors.ts';
import { importModel } from '../../interop/import.ts';
import type { InteropFormat } from '../../interop/export.ts';
import type { Activation, OutputMode } from '../../model.ts';
import { checkOutputsAreNotInputs, outputKind, printable, writeOutputs, type CliIO } from '../io.ts';

interface ImportCommandOptions {
  out: string;
  output?: OutputMode;
  activation?: Activation;
  format?: InteropFormat;
  json?: boolean;
}

/** The format of a model file by its extension, or null. */
export function interopFormatOf(path: string): InteropFormat | null {
  const ext = extname(path).toLowerCase();
  return ext === '.safetensors' ? 'safetensors' : ext === '.onnx' ? 'onnx' : null;
}

/** A whole binary file; a missing or unreadable one is an InputError naming it. */
export function readBinaryFile(path: string): Uint8Array {
  try {
    if (!statSync(path).isFile()) throw new InputError('', 'not a file', path);
    return readFileSync(path);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'ERR_FS_FILE_TOO_LARGE'
            ? 'file too large to read'
            : `cannot read: ${(e as Error).message}`;
    throw new InputError('', why, path);
  }
}

export function registerImport(program: Command, io: CliIO): void {
  program
    .command('import')
    .description('a PyTorch state_dict (.safetensors) or torch.onnx.export file (.onnx) as a model JSON file')
    .argument('<file>', '.safetensors (one nn.RNN/LSTM/GRU and one nn.Linear) or .onnx (torch.onnx.export of fc(out))')
    .requiredOption('--out <file.json>', 'model JSON file to write (atomically)')
    .addOption(
      new Option(
        '--output <mode>',
        "predict at every step (all, fc(out)) or at the last (last); default: the file's config, else all",
      ).choices(['last', 'all']),
    )
    .addOption(
      new Option(
        '--activation <act>',
        "nn.RNN's nonlinearity, which a state_dict does not store (default tanh, as PyTorch)",
      ).choices(['tanh', 'relu']),
    )
    .addOption(
      new Option('--format <format>', "the file's format (default: by extension, else from its bytes)").choices([
        'safetensors',
        'onnx',
      ]),
    )
    .option('--json', 'print a summary as JSON')
    .action(async (file: string, o: ImportCommandOptions) => {
      outputKind(o.out, '--out', ['json'] as const);
      checkOutputsAreNotInputs([['--out', o.out]], [['FILE', file]]);
      const bytes = readBinaryFile(file);
      const r = importModel(bytes, {
        format: o.format ?? interopFormatOf(file) ?? undefined,
        source: file,
        ...(o.output ? { output: o.output } : {}),
        ...(o.activation ? { activation: o.activation } : {}),
      });
      writeOutputs([{ path: o.out, text: JSON.stringify(r.model) + '\n' }]);
      for (const n of r.notes) io.err(`webgpu-rnn: import: ${printable(n)}\n`);
      const m = r.model;
      const summary = {
        file,
        format: r.format,
        out: o.out,
        cell: m.cell ?? 'elman',
        numLayers: m.numLayers ?? 1,
        bidirectional: m.bidirectional === true,
        inputSize: m.inputSize,
        hiddenSize: m.hiddenSize,
        outputSize: m.outputSize,
        activation: m.activation,
        output: m.output,
        notes: r.notes,
      };
      await io.out(
        o.json
          ? JSON.stringify(summary) + '\n'
          : `imported ${printable(file)} (${r.format}): ${summary.cell}, ${summary.numLayers} layer${summary.numLayers > 1 ? 's' : ''}${summary.bidirectional ? ', bidirectional' : ''}, I=${m.inputSize} H=${m.hiddenSize} O=${m.outputSize}, activation ${m.activation}, output ${m.output} → ${printable(o.out)}\n`,
      );
    });
}
