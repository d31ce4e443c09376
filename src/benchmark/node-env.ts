// Node-only parts of the benchmark: the machine (CPU model, cores, memory), package versions, the peers by name
// (tfjs and PyTorch ones from the dev-only bench/peers/), and atomic file output of the JSON and Markdown reports.

import { readFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import { InputError } from '../errors.ts';
import type { StrategyChoice } from '../gpu/strategy.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { CpuRefPeer, WebGpuPeer, type Peer } from './peer.ts';
import type { AdapterChoice } from './adapters.ts';
import * as gpuDevice from '../gpu/device.ts';
import type { MachineInfo, PeerStatus } from './run.ts';

const require = createRequire(import.meta.url);

export const PEER_IDS = ['cpu-ref', 'tfjs-cpu', 'tfjs-wasm', 'tfjs-webgpu', 'torch-cpu', 'ort-cpu'] as const;

export function machineInfo(): MachineInfo {
  const c = cpus();
  let cpu = c[0]?.model ?? 'unknown CPU';
  try {
    // /proc/cpuinfo names the model where os.cpus() may not.
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m && (!c[0]?.model || c[0].model === 'unknown')) cpu = m[1];
  } catch {
    // not Linux
  }
  return { cpu, cores: c.length, memoryBytes: totalmem(), platform: `${platform()} ${release()}` };
}

function pkgVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'absent';
  }
}

export function versions(): Record<string, string> {
  const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    node: process.version,
    'webgpu-rnn': own.version,
    webgpu: pkgVersion('webgpu'),
    '@tensorflow/tfjs': pkgVersion('@tensorflow/tfjs'),
  };
}

/** Parses `--peers`: a comma-separated subset of `known` (default PEER_IDS; our WebGPU engine always runs). */
export function parsePeers(list: string, known: readonly string[] = PEER_IDS, where = ''): string[] {
  const ids = [
    ...new Set(
      list
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  for (const id of ids) {
    if (id === 'webgpu') continue;
    if (!known.includes(id))
      throw new InputError(
        '--peers',
        `unknown ${where}peer "${id}" (known${where ? ` with --browser` : ''}: ${known.join(', ')})`,
      );
  }
  return ids.filter((id) => id !== 'webgpu');
}

/**
 * Our engine (once per strategy) and the named peers. tfjs peers come from bench/peers/ (dev-only); when that
 * code or tfjs is missing (an installed CLI), they are returned as unavailable with the reason.
 */
export async function nodePeers(
  ids: string[],
  strategies: (StrategyChoice | undefined)[] = [undefined],
): Promise<{ peers: Peer[]; unavailable: PeerStatus[] }> {
  // One strategy: the peer is `webgpu` (what ratios refer to); several (the sweep): `webgpu:<strategy>`.
  const peers: Peer[] = strategies.map(
    (s) =>
      new WebGpuPeer(strategies.length > 1 ? `webgpu:${s ?? 'auto'}` : 'webgpu', s && s !== 'auto' ? s : undefined),
  );
  const unavailable: PeerStatus[] = [];
  for (const id of ids) {
    if (id === 'cpu-ref') {
      peers.push(new CpuRefPeer());
      continue;
    }
    if (id === 'torch-cpu' || id === 'ort-cpu') {
      const torch = id === 'torch-cpu';
      try {
        const path = torch ? '../../bench/peers/torch.ts' : '../../bench/peers/ort.ts';
        // dev-only files: typed here, not imported, so the library build leaves them out
        const mod = (await import(/* @vite-ignore */ path)) as { torchPeer?(): Peer; ortPeer?(): Peer };
        peers.push(torch ? mod.torchPeer!() : mod.ortPeer!());
      } catch (e) {
        unavailable.push({
          id,
          label: torch ? 'PyTorch on the CPU' : 'ONNX Runtime on the CPU',
          ours: false,
          status: 'unavailable',
          detail: '',
          reason: `the dev-only peer code (bench/peers) is not installed: ${(e as Error).message}`,
        });
      }
      continue;
    }
    const backend = id.replace(/^tfjs-/, '') as 'cpu' | 'wasm' | 'webgpu';
    try {
      const path = '../../bench/peers/node.ts';
      const mod = (await import(/* @vite-ignore */ path)) as { tfjsPeer(backend: 'cpu' | 'wasm' | 'webgpu'): Peer };
      peers.push(mod.tfjsPeer(backend));
    } catch (e) {
      unavailable.push({
        id,
        label: `TensorFlow.js (tfjs-backend-${backend})`,
        ours: false,
        status: 'unavailable',
        detail: '',
        reason: `the dev-only peers (bench/peers, tfjs) are not installed: ${(e as Error).message}`,
      });
    }
  }
  return { peers, unavailable };
}

export function writeTextAtomic(path: string, text: string): void {
  writeFileAtomic(path, (write) => write(new TextEncoder().encode(text)));
}

/** Debian's lavapipe (Mesa) Vulkan driver manifest. */
export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';

/**
 * `--adapter`: sets WEBGPU_RNN_ADAPTER, which the engine's device selection reads where it knows adapters by name
 * (src/gpu/device.ts exports resolveAdapterChoice). With an engine that does not, and unless the user chose Vulkan
 * drivers already (VK_ICD_FILENAMES / VK_DRIVER_FILES), it points the Vulkan loader at SwiftShader or lavapipe
 * itself. Must run before the first WebGPU device is requested. Returns what it set, for the log.
 */
export function selectAdapter(choice: AdapterChoice): string | null {
  if (choice === 'auto') return null;
  const env = process.env;
  env.WEBGPU_RNN_ADAPTER = choice;
  if ('resolveAdapterChoice' in gpuDevice) return `WEBGPU_RNN_ADAPTER=${choice}`;
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES)
    return `WEBGPU_RNN_ADAPTER=${choice} (Vulkan drivers as set by the caller)`;
  const icd =
    choice === 'swiftshader'
      ? (gpuDevice as { SWIFTSHADER_ICD: string }).SWIFTSHADER_ICD
      : choice === 'lavapipe'
        ? LAVAPIPE_ICD
        : null;
  if (!icd) return `WEBGPU_RNN_ADAPTER=${choice}`;
  env.VK_DRIVER_FILES = icd;
  env.NODEVICE_SELECT ??= '1';
  return `WEBGPU_RNN_ADAPTER=${choice}, VK_DRIVER_FILES=${icd}`;
}
