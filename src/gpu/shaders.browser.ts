// WGSL sources in the browser: bundled by Vite with ?raw (Node reads the same files in shaders.node.ts).
import reduce from '../../shaders/reduce/reduce.wgsl?raw';
import gemm from '../../shaders/gemm/gemm.wgsl?raw';
import gemm_gates from '../../shaders/gemm/gates.wgsl?raw';
import gemm_emit from '../../shaders/gemm/emit.wgsl?raw';
import gemm_copy_steps from '../../shaders/gemm/copy_steps.wgsl?raw';
import gemm_carry from '../../shaders/gemm/carry.wgsl?raw';
import dropout from '../../shaders/common/dropout.wgsl?raw';
import model_sums from '../../shaders/reduce/model_sums.wgsl?raw';
import optimizer from '../../shaders/optimizer/optimizer.wgsl?raw';
import clip from '../../shaders/reduce/clip.wgsl?raw';
import rtrl from '../../shaders/rtrl/rtrl.wgsl?raw';
import copy from '../../shaders/probes/copy.wgsl?raw';
import fma from '../../shaders/probes/fma.wgsl?raw';
import gather from '../../shaders/gemm/gather.wgsl?raw';
import unroll_study from '../../shaders/study/unroll_study.wgsl?raw';
import ps_bptt from '../../shaders/per_sequence/bptt.wgsl?raw';
import ps_layer from '../../shaders/per_sequence/layer.wgsl?raw';
import ps_readout from '../../shaders/per_sequence/readout.wgsl?raw';
import cell_elman from '../../shaders/cells/elman.wgsl?raw';
import cell_lstm from '../../shaders/cells/lstm.wgsl?raw';
import cell_gru from '../../shaders/cells/gru.wgsl?raw';
import cell_gated from '../../shaders/cells/gated.wgsl?raw';
import cell_readout from '../../shaders/cells/readout.wgsl?raw';

export const shaders = {
  reduce,
  gemm,
  gemm_gates,
  gemm_emit,
  gemm_copy_steps,
  gemm_carry,
  dropout,
  model_sums,
  optimizer,
  clip,
  rtrl,
  copy,
  fma,
  gather,
  unroll_study,
  per_sequence: { bptt: ps_bptt, layer: ps_layer, readout: ps_readout },
  cells: { elman: cell_elman, lstm: cell_lstm, gru: cell_gru, gated: cell_gated, readout: cell_readout },
};
