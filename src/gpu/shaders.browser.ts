// WGSL sources in the browser: bundled by Vite with ?raw (Node reads the same files in shaders.node.ts).
import rnn from '../../shaders/rnn.wgsl?raw';
import reduce from '../../shaders/reduce.wgsl?raw';
import unroll_study from '../../shaders/unroll_study.wgsl?raw';

export const shaders = { rnn, reduce, unroll_study };
