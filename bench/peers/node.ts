// Loading the benchmark's peers in Node (dev-only): tfjs with its cpu, wasm (wasm files from node_modules) and
// webgpu backends (navigator.gpu from the `webgpu` package, the same Dawn + SwiftShader our engine uses).

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { getGpu } from '../../src/gpu/device.ts';
import { TfjsPeer, type TfjsBackend } from './tfjs.ts';

const require = createRequire(import.meta.url);

async function loadTfjs(backend: TfjsBackend): Promise<typeof TF> {
  const tf = (await import('@tensorflow/tfjs')) as typeof TF;
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  }
  if (backend === 'webgpu') {
    const gpu = await getGpu();
    const g = globalThis as { navigator?: { gpu?: GPU } };
    if (!g.navigator)
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
  }
  return tf;
}

/** A tfjs peer for Node; init() fails (and the peer is reported unavailable) when tfjs is not installed. */
export function tfjsPeer(backend: TfjsBackend): TfjsPeer {
  return new TfjsPeer(backend, () => loadTfjs(backend));
}

/** Installed versions of the peers' packages, or 'absent'. */
export function peerVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu']) {
    try {
      out[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      out[name] = 'absent';
    }
  }
  return out;
}
