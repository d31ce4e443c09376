// Getting a WebGPU device: navigator.gpu in the browser, the `webgpu` package (Dawn) in Node. On a Linux
// machine without a GPU, Dawn finds SwiftShader (Debian's chromium ships it) through the Vulkan loader.

import { GpuError } from '../errors.ts';

/** Where Debian's chromium package puts SwiftShader's Vulkan driver manifest. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface GpuContext {
  device: GPUDevice;
  /** e.g. `google swiftshader (SwiftShader driver 5.0.0)` */
  description: string;
  hasTimestamps: boolean;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
let nodeGpu: GPU | null = null;

/**
 * In Node, unless the user chose Vulkan drivers: with a GPU device node present (/dev/dri/renderD*, /dev/nvidia*,
 * /dev/kfd), SwiftShader is *added* to the drivers so the real GPU still wins; without one, the loader is pointed
 * at SwiftShader alone, which spares the user the failing probes (and their stderr noise) of hardware drivers.
 */
async function offerSwiftShader(): Promise<void> {
  const env = process.env;
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) return;
  const fsName = 'node:fs'; // kept out of the browser bundle
  const { existsSync, readdirSync } = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs');
  if (!existsSync(SWIFTSHADER_ICD)) return;
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  const hasGpu = list('/dev/dri').some((f) => f.startsWith('renderD')) || list('/dev').some((f) => /^nvidia\d|^kfd$/.test(f));
  if (!hasGpu) {
    env.VK_DRIVER_FILES = SWIFTSHADER_ICD;
    // Mesa's device-select layer has nothing to select here and only complains about XDG_RUNTIME_DIR.
    env.NODEVICE_SELECT ??= '1';
    return;
  }
  const added = env.VK_ADD_DRIVER_FILES ? env.VK_ADD_DRIVER_FILES.split(':') : [];
  if (!added.includes(SWIFTSHADER_ICD)) env.VK_ADD_DRIVER_FILES = [...added, SWIFTSHADER_ICD].join(':');
}

/** The GPU entry point: navigator.gpu in the browser, Dawn (with SwiftShader offered) in Node. */
export async function getGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!isNode) throw new GpuError('WebGPU is not available in this browser (navigator.gpu is missing)');
  if (!nodeGpu) {
    await offerSwiftShader();
    const name = 'webgpu';
    let mod: { create: (opts: string[]) => GPU; globals: Record<string, unknown> };
    try {
      mod = await import(/* @vite-ignore */ name);
    } catch (e) {
      throw new GpuError(`cannot load the 'webgpu' package (Dawn for Node): ${(e as Error).message}`);
    }
    for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    const opts = process.env.WEBGPU_RNN_DAWN_OPTIONS ? process.env.WEBGPU_RNN_DAWN_OPTIONS.split(' ') : [];
    nodeGpu = mod.create(opts);
  }
  return nodeGpu;
}

export function describeAdapter(info: GPUAdapterInfo): string {
  const name = [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const more = [info.description, info.device].filter(Boolean)[0];
  return more ? `${name} (${more})` : name;
}

const NO_ADAPTER_HELP = isNode
  ? `On Linux without a GPU, install Debian's chromium (it ships SwiftShader at ${SWIFTSHADER_ICD}) and the Vulkan loader: apt-get install -y chromium libvulkan1`
  : 'Enable WebGPU in this browser (chrome://flags/#enable-unsafe-webgpu) or use the CPU backend';

/** Requests an adapter and a device with the adapter's largest buffer limits. Throws GpuError if there is none. */
export async function acquireDevice(): Promise<GpuContext> {
  const gpu = await getGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new GpuError(`no WebGPU adapter found. ${NO_ADAPTER_HELP}`);
  const hasTimestamps = adapter.features.has('timestamp-query');
  const device = await adapter.requestDevice({
    label: 'webgpu-rnn device',
    requiredFeatures: hasTimestamps ? ['timestamp-query'] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
    },
  });
  const info = adapter.info ?? device.adapterInfo;
  return { device, description: describeAdapter(info), hasTimestamps };
}

/** Runs `work` inside validation, out-of-memory and internal error scopes; a captured error becomes a GpuError. */
export async function withErrorScopes<T>(device: GPUDevice, what: string, work: () => Promise<T>): Promise<T> {
  device.pushErrorScope('internal');
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T | undefined;
  let thrown: unknown = null;
  try {
    result = await work();
  } catch (e) {
    thrown = e;
  }
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  const internal = await device.popErrorScope();
  if (oom) throw new GpuError(`${what}: out of GPU memory: ${oom.message}`);
  if (validation) throw new GpuError(`${what}: WebGPU validation error: ${validation.message}`);
  if (internal) throw new GpuError(`${what}: WebGPU internal error: ${internal.message}`);
  if (thrown) throw thrown;
  return result as T;
}
