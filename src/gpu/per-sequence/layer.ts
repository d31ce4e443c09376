// The per-sequence strategy's layered kernels (shaders/per_sequence/): LayerKernel runs one recurrent layer of a
// stacked or bidirectional network, both directions in one dispatch (entry `forward`, or `backward` through time),
// and LayerReadoutKernel the readout on the top layer with the loss and, for BPTT, its gradients and dSSR/dh_top.
// src/gpu/per-sequence/layers.ts records them per chunk.

import { cellOf, type CellName } from '../../cells/index.ts';
import type { Activation } from '../../model.ts';
import { withCell } from '../cell.ts';
import { withDropout } from '../dropout.ts';
import { Kernel, foldDispatch, type KernelSpec } from '../kernel.ts';
import { specializeConsts, specializeShape } from '../specialize.ts';
import { tuningFor } from '../tuning.ts';
import { shaders } from '#shaders';

export interface LayerVariant {
  cell?: CellName;
  activation: Activation;
  /** What the layer reads per step: the model's inputSize for layer 0, D·H above. */
  inputSize: number;
  hiddenSize: number;
  entry: 'forward' | 'backward';
  /** forward: keep every state for `backward`. */
  storeStates: boolean;
  /** forward: write each sequence's final state. */
  writeFinal: boolean;
  /** backward: pass dSSR/dx_t to the layer below (every layer but the first). */
  inputGrad: boolean;
  /** Read the input through the dropout mask (a layer above the first, in a run with dropout). */
  dropout: boolean;
  workgroupSize: number;
  unroll?: boolean;
}

/** Dispatches `invocations` invocations of `kernel` in workgroups of `wg`, folded into 2D past the limit. */
function dispatch(
  kernel: Kernel,
  pass: GPUComputePassEncoder,
  bindGroup: GPUBindGroup,
  invocations: number,
  wg: number,
) {
  const [x, y] = foldDispatch(Math.ceil(invocations / wg), kernel.device.limits.maxComputeWorkgroupsPerDimension);
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(x, y);
}

export class LayerKernel {
  private constructor(
    readonly kernel: Kernel,
    readonly v: LayerVariant,
  ) {}

  static async load(device: GPUDevice, v: LayerVariant): Promise<LayerKernel> {
    return new LayerKernel(await Kernel.load(device, layerSpec(device, v)), v);
  }

  /** Records the dispatch for `n` sequences in `dirs` directions (the bind group's params must say so). */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, n: number, dirs: number): void {
    dispatch(this.kernel, pass, bindGroup, n * dirs, this.v.workgroupSize);
  }
}

function layerSpec(device: GPUDevice, v: LayerVariant): KernelSpec {
  const budget = tuningFor(device).unrollChars;
  const cell = cellOf(v);
  const shape = { cell: v.cell, inputSize: v.inputSize, hiddenSize: v.hiddenSize, outputSize: 1 };
  const flags = [
    v.activation,
    v.storeStates ? 'states' : '',
    v.writeFinal ? 'final' : '',
    v.inputGrad ? 'dx' : '',
    v.dropout ? 'dropout' : '',
    `wg=${v.workgroupSize}`,
    v.unroll === false ? 'loops' : `unroll=${budget}`,
  ].filter(Boolean);
  const label = `layer.${v.entry}[${cell.name},H=${v.hiddenSize},I=${v.inputSize},${flags.join(',')}]`;
  return {
    label,
    source: specializeShape(
      withCell(label, withDropout(label, shaders.per_sequence.layer), cell),
      shape,
      v.unroll !== false,
      budget,
    ),
    entry: v.entry,
    constants: {
      WG: v.workgroupSize,
      ...cell.overrides(v.activation),
      STORE_STATES: v.storeStates,
      WRITE_FINAL: v.writeFinal,
      INPUT_GRAD: v.inputGrad,
      DROPOUT: v.dropout,
    },
  };
}

export interface LayerReadoutVariant {
  /** D·H: the top layer's outputs per step. */
  width: number;
  outputSize: number;
  outAll: boolean;
  writeY: boolean;
  hasTargets: boolean;
  backward: boolean;
  workgroupSize: number;
}

export class LayerReadoutKernel {
  private constructor(
    readonly kernel: Kernel,
    readonly v: LayerReadoutVariant,
  ) {}

  static async load(device: GPUDevice, v: LayerReadoutVariant): Promise<LayerReadoutKernel> {
    const label = `layer.readout[DH=${v.width},O=${v.outputSize},${v.outAll ? 'all' : 'last'}${v.writeY ? ',y' : ''}${v.hasTargets ? ',loss' : ''}${v.backward ? ',bptt' : ''},wg=${v.workgroupSize}]`;
    const spec: KernelSpec = {
      label,
      source: specializeConsts(shaders.per_sequence.readout, label, { DH: v.width, O: v.outputSize }),
      entry: 'main',
      constants: {
        WG: v.workgroupSize,
        OUT_ALL: v.outAll,
        WRITE_Y: v.writeY,
        HAS_TARGETS: v.hasTargets,
        BACKWARD: v.backward,
      },
    };
    return new LayerReadoutKernel(await Kernel.load(device, spec), v);
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, n: number): void {
    dispatch(this.kernel, pass, bindGroup, n, this.v.workgroupSize);
  }
}
