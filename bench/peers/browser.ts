// tfjs peers for the benchmark in the browser (dev-only; bundled by Vite): the cpu, wasm (wasm files by Vite
// ?url) and webgpu (navigator.gpu) backends.

import type * as TF from '@tensorflow/tfjs';
import { TfjsPeer, type TfjsBackend } from './tfjs.ts';

async function loadTfjs(backend: TfjsBackend): Promise<typeof TF> {
  const tf = (await import('@tensorflow/tfjs')) as typeof TF;
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const [plain, simd, threaded] = await Promise.all([
      import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url'),
      import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url'),
      import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url'),
    ]);
    wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': plain.default,
      'tfjs-backend-wasm-simd.wasm': simd.default,
      'tfjs-backend-wasm-threaded-simd.wasm': threaded.default,
    });
  }
  if (backend === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  return tf;
}

/** tfjs peers for runBrowserBench({ peers }); one that fails to load is reported unavailable with the reason. */
export function browserTfjsPeers(backends: TfjsBackend[] = ['cpu', 'wasm', 'webgpu']): TfjsPeer[] {
  return backends.map((b) => new TfjsPeer(b, () => loadTfjs(b)));
}
