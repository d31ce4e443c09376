// Text and JSON rendering for the CLI's reports.

import type { Batch, RnnStates } from '../batch.ts';
import { maxLength, nestStates, totalSteps } from '../batch.ts';
import type { Result } from '../engine.ts';
import { nestRows } from '../io/nested.ts';
import { blockName, isLayered, layerCount, paramLayout, type LayerShape, type ModelJSON } from '../model.ts';

/** The cell as people say it: Elman's activation (`relu`), or the gated cell's name (`lstm`, `gru`). */
export function cellText(model: { cell?: string; activation: string }): string {
  return model.cell && model.cell !== 'elman' ? model.cell : model.activation;
}

/** A number for people: up to 10 significant digits, no trailing zeros. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  const s = a >= 1e-6 && a < 1e15 ? String(Number(v.toPrecision(10))) : v.toExponential(9).replace(/\.?0+e/, 'e');
  return s;
}

/** Rows of numbers, columns aligned, each row on its own line with `indent`. */
export function matrixText(rows: number[][], indent = '  '): string {
  const cells = rows.map((r) => r.map(num));
  const width = Math.max(1, ...cells.flat().map((c) => c.length));
  return cells.map((r) => `${indent}[ ${r.map((c) => c.padStart(width)).join('  ')} ]`).join('\n');
}

/**
 * JSON with the top-level object's keys on separate lines and nested objects one more level deep; arrays stay on
 * one line. Numbers keep full precision (JSON.stringify), so values read back exactly.
 */
export function jsonText(value: unknown, expandDepth = 2, indent = ''): string {
  if (expandDepth === 0 || value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    // Arrays of objects (e.g. verify's quantities) get one element per line; arrays of numbers stay on one line.
    const isRecord = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (value.length === 0 || !value.every(isRecord)) return JSON.stringify(value);
    return `[\n${value.map((v) => `${indent}  ${JSON.stringify(v)}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  const inner = indent + '  ';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${jsonText(v, expandDepth - 1, inner)}`).join(',\n')}\n${indent}}`;
}

/** The nested outputs: N×O for `last`, N×T_n×O for `all`. */
export function nestedOutputs(r: Result, batch: Batch, model: ModelJSON): number[][] | number[][][] | undefined {
  return r.outputs ? nestRows(r.outputs, batch, model.outputSize, model.output) : undefined;
}

/** `, 2 layers, bidirectional` for a stacked or bidirectional model; empty for one layer in one direction. */
function stackText(model: LayerShape): string {
  if (!isLayered(model)) return '';
  const L = model.numLayers ?? 1;
  return `, ${L} layer${L === 1 ? '' : 's'}${model.bidirectional ? ', bidirectional' : ''}`;
}

/** A states file (`--states-out`): `{"h": [numLayers·D][N][H], "c": …}` (c for the LSTM). */
export function statesText(states: RnnStates, model: { hiddenSize: number } & LayerShape, count: number): string {
  const K = layerCount(model);
  const H = model.hiddenSize;
  return (
    jsonText({
      h: nestStates(states.h, K, count, H),
      ...(states.c ? { c: nestStates(states.c, K, count, H) } : {}),
    }) + '\n'
  );
}

/** The JSON object printed by `grad --json` and `forward --json`. */
export function resultJson(
  r: Result,
  batch: Batch,
  model: ModelJSON,
  withGrads: boolean,
  withOutputs: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = { backend: r.backend, adapter: r.adapter, loss: r.loss };
  if (r.fallbackReason) out.fallbackReason = r.fallbackReason;
  if (withGrads) {
    out.grads = r.grads;
    out.gradNorm = r.gradNorm;
    out.clipped = r.clipped;
  }
  if (withOutputs) out.outputs = nestedOutputs(r, batch, model);
  return out;
}

/** The readable report of `grad` and `forward`. */
export function resultText(
  r: Result,
  batch: Batch,
  model: ModelJSON,
  withGrads: boolean,
  withOutputs: boolean,
  fallback: string | null,
): string {
  const { inputSize: I, hiddenSize: H, outputSize: O } = model;
  const lines: string[] = [];
  const why = r.fallbackReason ?? (fallback ? `WebGPU unavailable: ${fallback}` : null);
  lines.push(`backend   ${r.backend}${why ? ` (${why})` : ''}`);
  lines.push(`adapter   ${r.adapter}`);
  lines.push(`model     I=${I} H=${H} O=${O}, ${cellText(model)}${stackText(model)}, output "${model.output}"`);
  lines.push(
    `batch     ${batch.count} sequence${batch.count === 1 ? '' : 's'}, ${totalSteps(batch)} steps, longest ${maxLength(batch)}`,
  );
  lines.push(`loss      ${r.loss === null ? '(no targets)' : `${num(r.loss)}  (SSR, sum of squared residuals)`}`);
  if (withGrads && r.grads) {
    lines.push(`grad norm ${num(r.gradNorm!)}  (‖dSSR/dθ‖₂ before clipping${r.clipped ? '; clipped' : ''})`);
    lines.push('', `gradients dSSR/dθ, summed over the batch${r.clipped ? ', clipped by global norm' : ''}:`);
    for (const b of paramLayout(model).order) {
      const from = b.layer === undefined ? r.grads : r.grads.layers![b.layer];
      const g = (from as unknown as Record<string, number[] | number[][]>)[b.name];
      const rows = Array.isArray(g[0]) ? (g as number[][]) : [g as number[]];
      lines.push(`${blockName(b)} (${b.cols === 0 ? b.rows : `${b.rows}×${b.cols}`})`, matrixText(rows));
    }
  }
  if (withOutputs && r.outputs) {
    const nested = nestedOutputs(r, batch, model)!;
    lines.push('', `outputs (${model.output === 'last' ? 'one per sequence' : 'one per step'}):`);
    if (model.output === 'last')
      (nested as number[][]).forEach((row, n) => lines.push(`  [${n}]  ${row.map(num).join('  ')}`));
    else
      (nested as number[][][]).forEach((seq, n) =>
        seq.forEach((row, t) => lines.push(`  [${n}][${t}]  ${row.map(num).join('  ')}`)),
      );
  }
  return lines.join('\n') + '\n';
}
