// WGSL sources in Node: read from shaders/ (the browser build imports them with Vite's ?raw instead).
import { readFileSync } from 'node:fs';

const read = (name: string): string => readFileSync(new URL(`../../shaders/${name}.wgsl`, import.meta.url), 'utf8');

export const shaders = {
  reduce: read('reduce/reduce'),
  gemm: read('gemm/gemm'),
  gemm_gates: read('gemm/gates'),
  gemm_emit: read('gemm/emit'),
  gemm_copy_steps: read('gemm/copy_steps'),
  gemm_carry: read('gemm/carry'),
  dropout: read('common/dropout'),
  model_sums: read('reduce/model_sums'),
  optimizer: read('optimizer/optimizer'),
  clip: read('reduce/clip'),
  rtrl: read('rtrl/rtrl'),
  copy: read('probes/copy'),
  fma: read('probes/fma'),
  gather: read('gemm/gather'),
  unroll_study: read('study/unroll_study'),
  /**
   * The per-sequence strategy's kernels: the single-layer BPTT driver (engine.run and training), and the layered
   * kernels: one recurrent layer (both directions), and the readout.
   */
  per_sequence: {
    bptt: read('per_sequence/bptt'),
    layer: read('per_sequence/layer'),
    readout: read('per_sequence/readout'),
  },
  /** Recurrent cells' modules, what the gated ones share and the shared readout, spliced into kernels by src/gpu/cell.ts. */
  cells: {
    elman: read('cells/elman'),
    lstm: read('cells/lstm'),
    gru: read('cells/gru'),
    gated: read('cells/gated'),
    readout: read('cells/readout'),
  },
};
