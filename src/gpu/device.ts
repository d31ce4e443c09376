// Getting a WebGPU device: navigator.gpu in the browser, the `webgpu` package (Dawn) in Node. On a Linux machine
// without a GPU, Dawn reaches a software Vulkan driver through the Vulkan loader: SwiftShader (Debian's chromium
// ships it) or lavapipe (Mesa's llvmpipe). Which one is GpuOptions.adapter / WEBGPU_RNN_ADAPTER: `auto` takes a
// hardware adapter when there is one, else the software driver that ran a short arithmetic probe faster (the
// choice is cached on disk, keyed by the drivers' files). The drivers are chosen with VK_DRIVER_FILES before Dawn
// creates its Vulkan instance; a user's own VK_ICD_FILENAMES / VK_DRIVER_FILES always win. Dawn's known noise on
// stderr while it lists the adapters is kept off it (src/gpu/dawn-log.ts). See docs/adapters.md.

import { GpuError, InputError } from '../errors.ts';
import { dawnVerbose, quietDawn, settleStderr, type QuietIo } from './dawn-log.ts';
import { ADAPTER_CHOICES, adapterKind, type AdapterChoice, type AdapterKind } from './tuning.ts';

/** Where Debian's chromium package puts SwiftShader's Vulkan driver manifest. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** Where Mesa (Debian's mesa-vulkan-drivers) puts lavapipe's Vulkan driver manifest. */
export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';

const SOFTWARE_ICDS: Record<Exclude<AdapterKind, 'hardware'>, string[]> = {
  swiftshader: [
    SWIFTSHADER_ICD,
    '/usr/lib64/chromium/vk_swiftshader_icd.json',
    '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  ],
  lavapipe: [
    LAVAPIPE_ICD,
    '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json',
    '/usr/share/vulkan/icd.d/lvp_icd.aarch64.json',
    '/usr/local/share/vulkan/icd.d/lvp_icd.json',
  ],
};

const INSTALL_HELP: Record<Exclude<AdapterKind, 'hardware'>, string> = {
  swiftshader: `install Debian's chromium, which ships SwiftShader at ${SWIFTSHADER_ICD} (apt-get install chromium libvulkan1)`,
  lavapipe: `install Mesa's Vulkan drivers, which ship lavapipe at ${LAVAPIPE_ICD} (apt-get install mesa-vulkan-drivers libvulkan1; Debian 12 needs Mesa 25 from bookworm-backports, see scripts/setup.sh)`,
};

export interface GpuContext {
  device: GPUDevice;
  /** e.g. `google swiftshader (SwiftShader driver 5.0.0)` */
  description: string;
  hasTimestamps: boolean;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

type DawnModule = { create: (opts: string[]) => GPU; globals: Record<string, unknown> };
let dawn: DawnModule | null = null;
/** One Dawn instance per set of Vulkan drivers (the loader reads VK_DRIVER_FILES when the instance is made). */
const instances = new Map<string, GPU>();

async function nodeModule<T>(name: string): Promise<T> {
  return (await import(/* @vite-ignore */ name)) as T; // kept out of the browser bundle
}

/** What the GpuError says when the `webgpu` package is not installed (it is an optional peer dependency). */
export const DAWN_MISSING = "WebGPU in Node needs the 'webgpu' package, which is not installed: npm install webgpu";

/**
 * The `webgpu` package, loaded once. Not installed: a GpuError saying `npm install webgpu` (the package lists it as
 * an optional peer dependency, so a browser-only project does not download it); installed but failing to load
 * (e.g. no libvulkan.so.1): a GpuError with the loader's message.
 */
async function loadDawn(): Promise<DawnModule> {
  if (dawn) return dawn;
  const name = 'webgpu';
  let mod: DawnModule;
  try {
    mod = await nodeModule<DawnModule>(name);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    const missing =
      (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND') &&
      /Cannot find (?:package|module) 'webgpu'/.test(err.message ?? '');
    if (missing) throw new GpuError(DAWN_MISSING);
    throw new GpuError(`cannot load the 'webgpu' package (Dawn for Node): ${(e as Error).message}`);
  }
  for (const [k, v] of Object.entries(mod.globals))
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  return (dawn = mod);
}

/** What the environment gives to choose from: GPU device nodes, installed software drivers, the user's own driver list. */
interface NodeEnvironment {
  hasGpuNode: boolean;
  icds: Partial<Record<Exclude<AdapterKind, 'hardware'>, string>>;
  /** `VK_ICD_FILENAMES=…` or `VK_DRIVER_FILES=…` when the user chose the drivers. */
  userDrivers: { name: string; files: string[] } | null;
  existsSync: (p: string) => boolean;
}

async function nodeEnvironment(): Promise<NodeEnvironment> {
  const { existsSync, readdirSync } = await nodeModule<typeof import('node:fs')>('node:fs');
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  const hasGpuNode =
    list('/dev/dri').some((f) => f.startsWith('renderD')) || list('/dev').some((f) => /^nvidia\d|^kfd$/.test(f));
  const icds: NodeEnvironment['icds'] = {};
  for (const kind of ['swiftshader', 'lavapipe'] as const) {
    const found = SOFTWARE_ICDS[kind].find((f) => existsSync(f));
    if (found) icds[kind] = found;
  }
  const env = process.env;
  const name = env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : env.VK_ICD_FILENAMES ? 'VK_ICD_FILENAMES' : null;
  const userDrivers = name ? { name, files: env[name]!.split(':').filter(Boolean) } : null;
  return { hasGpuNode, icds, userDrivers, existsSync };
}

/** The adapter asked for: `requested`, else WEBGPU_RNN_ADAPTER, else `auto`. An unknown name is an InputError. */
export function resolveAdapterChoice(requested?: string): AdapterChoice {
  const fromEnv = isNode ? process.env.WEBGPU_RNN_ADAPTER : undefined;
  const value = requested ?? (fromEnv === '' ? undefined : fromEnv) ?? 'auto';
  if (!(ADAPTER_CHOICES as readonly string[]).includes(value)) {
    const where = requested !== undefined ? '' : ' (from WEBGPU_RNN_ADAPTER)';
    throw new InputError('adapter', `unknown adapter "${value}"${where}: use ${ADAPTER_CHOICES.join(', ')}`);
  }
  return value as AdapterChoice;
}

let nodeIo: QuietIo | null = null;

/** What quietDawn needs from Node. */
async function quietIo(): Promise<QuietIo> {
  if (nodeIo) return nodeIo;
  const [fs, os, threads] = await Promise.all([
    nodeModule<typeof import('node:fs')>('node:fs'),
    nodeModule<typeof import('node:os')>('node:os'),
    nodeModule<typeof import('node:worker_threads')>('node:worker_threads'),
  ]);
  return (nodeIo = { fs, tmpdir: os.tmpdir(), isMainThread: threads.isMainThread });
}

/** Serializes instance creation: VK_DRIVER_FILES is process-wide while Dawn's loader reads it. */
let envLock: Promise<unknown> = Promise.resolve();

/**
 * A Dawn instance over `drivers` (Vulkan driver manifests; null = the loader's own search, or the user's list) and
 * its adapter. The environment variables are set only while the instance and adapter are made.
 */
function dawnAdapter(
  drivers: string | null,
  extra: Record<string, string> = {},
): Promise<{ gpu: GPU; adapter: GPUAdapter | null }> {
  const work = envLock.then(async () => {
    const mod = await loadDawn();
    const key = `${drivers ?? ''}|${JSON.stringify(extra)}`;
    const env = process.env;
    const vars: Record<string, string> = {
      ...(drivers ? { VK_DRIVER_FILES: drivers, NODEVICE_SELECT: env.NODEVICE_SELECT ?? '1' } : {}),
      ...extra,
    };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, env[k]]));
    const io = await quietIo();
    await settleStderr();
    Object.assign(env, vars);
    try {
      // Dawn lists the adapters inside requestAdapter, synchronously: that is where its noise is printed.
      const { gpu, pending } = quietDawn(io, () => {
        let gpu = instances.get(key);
        if (!gpu) {
          const opts = env.WEBGPU_RNN_DAWN_OPTIONS ? env.WEBGPU_RNN_DAWN_OPTIONS.split(' ') : [];
          instances.set(key, (gpu = mod.create(opts)));
        }
        return { gpu, pending: gpu.requestAdapter({ powerPreference: 'high-performance' }) };
      });
      return { gpu, adapter: await pending };
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete env[k];
        else env[k] = v;
      }
    }
  });
  envLock = work.catch(() => undefined);
  return work;
}

/** The user's VK_ICD_FILENAMES / VK_DRIVER_FILES name files that do not exist: say so instead of letting the loader fail noisily. */
function checkUserDrivers(e: NodeEnvironment): void {
  const u = e.userDrivers;
  if (!u) return;
  const missing = u.files.filter((f) => !e.existsSync(f));
  if (missing.length === u.files.length) {
    throw new GpuError(
      `no WebGPU adapter: ${u.name} names ${missing.join(', ')}, which ${missing.length === 1 ? 'does' : 'do'} not exist (fix or unset ${u.name}; unset, webgpu-rnn chooses the drivers itself)`,
    );
  }
}

/**
 * `auto` among the installed software drivers: the one that ran the arithmetic probe faster. Measured once per set
 * of driver files (path, size and mtime of each manifest and its library) and remembered in the user's cache dir.
 */
async function fasterSoftware(icds: NodeEnvironment['icds']): Promise<Exclude<AdapterKind, 'hardware'>> {
  const kinds = (['swiftshader', 'lavapipe'] as const).filter((k) => icds[k]);
  if (kinds.length <= 1) return kinds[0] ?? 'swiftshader';
  const cache = await probeCache(kinds.map((k) => icds[k]!));
  const hit = cache.read();
  if (hit && kinds.includes(hit as never)) return hit as Exclude<AdapterKind, 'hardware'>;
  const ms: Record<string, number> = {};
  for (const k of kinds) {
    try {
      ms[k] = await probeAdapter(icds[k]!);
    } catch {
      ms[k] = Infinity;
    }
  }
  const best = kinds.reduce((a, b) => (ms[b] < ms[a] ? b : a));
  cache.write(best, ms);
  return best;
}

const PROBE_VERSION = 1;

async function probeCache(
  files: string[],
): Promise<{ read(): string | null; write(choice: string, ms: Record<string, number>): void }> {
  const fs = await nodeModule<typeof import('node:fs')>('node:fs');
  const path = await nodeModule<typeof import('node:path')>('node:path');
  const os = await nodeModule<typeof import('node:os')>('node:os');
  const stamp = (f: string): string => {
    try {
      const st = fs.statSync(f);
      return `${f}:${st.size}:${st.mtimeMs}`;
    } catch {
      return `${f}:missing`;
    }
  };
  const parts: string[] = [];
  for (const f of files) {
    parts.push(stamp(f));
    try {
      const lib = (JSON.parse(fs.readFileSync(f, 'utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path;
      if (lib && lib.includes('/')) parts.push(stamp(path.resolve(path.dirname(f), lib)));
    } catch {
      // an unreadable manifest: the stamp of the file alone
    }
  }
  const key = `v${PROBE_VERSION};${parts.join(';')}`;
  const dir = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'webgpu-rnn');
  const file = path.join(dir, 'adapter-probe.json');
  return {
    read() {
      try {
        const j = JSON.parse(fs.readFileSync(file, 'utf8')) as { key?: string; choice?: string };
        return j.key === key && typeof j.choice === 'string' ? j.choice : null;
      } catch {
        return null;
      }
    },
    write(choice, ms) {
      try {
        fs.mkdirSync(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify({ key, choice, milliseconds: ms }) + '\n');
        fs.renameSync(tmp, file);
      } catch {
        // no cache dir: probe again next time
      }
    },
  };
}

/** A short arithmetic probe (dependent FMAs and a small private array): milliseconds for the best of 3 runs. */
const PROBE_WGSL = `
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  var a: array<f32, 8>;
  for (var k = 0u; k < 8u; k++) { a[k] = f32(gid.x + k) * 1e-3; }
  var s = 0.0;
  for (var t = 0u; t < 256u; t++) {
    for (var k = 0u; k < 8u; k++) { a[k] = fma(a[k], 0.999, a[(k + 1u) % 8u] * 1e-3); s += a[k]; }
  }
  out[gid.x] = s;
}`;

async function probeAdapter(icd: string): Promise<number> {
  const { adapter } = await dawnAdapter(icd);
  if (!adapter) return Infinity;
  const device = await adapter.requestDevice({ label: 'webgpu-rnn adapter probe' });
  try {
    const n = 16384;
    const buf = device.createBuffer({
      label: 'webgpu-rnn adapter probe out',
      size: n * 4,
      usage: GPUBufferUsage.STORAGE,
    });
    const module = device.createShaderModule({ label: 'webgpu-rnn adapter probe', code: PROBE_WGSL });
    const pipeline = await device.createComputePipelineAsync({
      label: 'webgpu-rnn adapter probe',
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
    });
    const bind = device.createBindGroup({
      label: 'webgpu-rnn adapter probe',
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: buf } }],
    });
    let best = Infinity;
    for (let r = 0; r < 4; r++) {
      const t0 = performance.now();
      const enc = device.createCommandEncoder({ label: 'webgpu-rnn adapter probe' });
      const pass = enc.beginComputePass({ label: 'webgpu-rnn adapter probe' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(n / 64);
      pass.end();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      if (r > 0) best = Math.min(best, performance.now() - t0); // the first run warms up
    }
    return best;
  } finally {
    device.destroy();
  }
}

/** The adapter for `choice` in Node, with the error that fits when there is none. */
async function nodeAdapter(choice: AdapterChoice): Promise<{ gpu: GPU; adapter: GPUAdapter }> {
  dawnVerbose(); // a bad WEBGPU_RNN_LOG is an InputError before Dawn is touched
  await loadDawn(); // no 'webgpu' package: say that before anything about drivers
  const e = await nodeEnvironment();
  checkUserDrivers(e);
  if (e.userDrivers) {
    // The user's drivers win: take what they give, and check it is the kind asked for.
    const { gpu, adapter } = await dawnAdapter(null);
    const u = e.userDrivers;
    if (!adapter)
      throw new GpuError(
        `no WebGPU adapter from the Vulkan drivers ${u.name} names (${u.files.join(':')}); fix or unset ${u.name}`,
      );
    const kind = adapterKind(adapter.info);
    if (choice !== 'auto' && kind !== choice) {
      throw new GpuError(
        `adapter: ${choice} was asked for, but ${u.name}=${u.files.join(':')} gives ${describeAdapter(adapter.info)} (${kind}); unset ${u.name} or ask for adapter ${kind}`,
      );
    }
    return { gpu, adapter };
  }
  if (choice === 'hardware' || (choice === 'auto' && e.hasGpuNode)) {
    if (!e.hasGpuNode)
      throw new GpuError(
        'adapter: hardware was asked for, but this machine has no GPU device node (/dev/dri/renderD*, /dev/nvidia*, /dev/kfd)',
      );
    // The loader's own driver search, where hardware drivers win over software ones (high-performance).
    const { gpu, adapter } = await dawnAdapter(null);
    if (adapter && adapterKind(adapter.info) === 'hardware') return { gpu, adapter };
    if (choice === 'hardware') {
      throw new GpuError(
        `adapter: hardware was asked for, but the Vulkan loader found ${adapter ? `only ${describeAdapter(adapter.info)}` : 'no adapter'} (is the GPU's Vulkan driver installed?)`,
      );
    }
  }
  const kind = choice === 'auto' ? await fasterSoftware(e.icds) : choice;
  const icd = e.icds[kind];
  if (!icd) {
    if (choice === 'auto') {
      throw new GpuError(
        `no WebGPU adapter found: no GPU and no software Vulkan driver. On Linux, ${INSTALL_HELP.swiftshader}, or ${INSTALL_HELP.lavapipe}`,
      );
    }
    throw new GpuError(`adapter: ${kind} is not installed; ${INSTALL_HELP[kind]}`);
  }
  const { gpu, adapter } = await dawnAdapter(icd);
  if (!adapter) {
    const why = kind === 'lavapipe' ? ' (Dawn needs a recent Mesa: 25 works, 22.3 does not)' : '';
    throw new GpuError(`adapter: ${kind}'s driver at ${icd} gave no WebGPU adapter${why}`);
  }
  return { gpu, adapter };
}

/** The GPU entry point: navigator.gpu in the browser, Dawn in Node (the instance `auto` chooses). */
export async function getGpu(choice?: AdapterChoice): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!isNode) throw new GpuError('WebGPU is not available in this browser (navigator.gpu is missing)');
  return (await nodeAdapter(resolveAdapterChoice(choice))).gpu;
}

export function describeAdapter(info: GPUAdapterInfo): string {
  const name = [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const more = [info.description, info.device].filter(Boolean)[0];
  return more ? `${name} (${more})` : name;
}

/**
 * Requests an adapter (`adapter`, else WEBGPU_RNN_ADAPTER, else `auto`) and a device with the adapter's largest
 * buffer limits. Throws InputError for an unknown adapter name, GpuError when there is no such adapter.
 */
export async function acquireDevice(adapterChoice?: AdapterChoice): Promise<GpuContext> {
  const choice = resolveAdapterChoice(adapterChoice);
  let adapter: GPUAdapter | null;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu || !isNode) {
    if (!nav?.gpu) throw new GpuError('WebGPU is not available in this browser (navigator.gpu is missing)');
    adapter = await nav.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter)
      throw new GpuError(
        'no WebGPU adapter found. Enable WebGPU in this browser (chrome://flags/#enable-unsafe-webgpu) or use the CPU backend',
      );
    const kind = adapterKind(adapter.info);
    if (choice !== 'auto' && kind !== choice)
      throw new GpuError(
        `adapter: ${choice} was asked for, but this browser gives ${describeAdapter(adapter.info)} (${kind})`,
      );
  } else {
    adapter = (await nodeAdapter(choice)).adapter;
  }
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
  let failed = false;
  let thrown: unknown;
  try {
    result = await work();
  } catch (e) {
    failed = true;
    thrown = e;
  }
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  const internal = await device.popErrorScope();
  if (oom) throw new GpuError(`${what}: out of GPU memory: ${oom.message}`);
  if (validation) throw new GpuError(`${what}: WebGPU validation error: ${validation.message}`);
  if (internal) throw new GpuError(`${what}: WebGPU internal error: ${internal.message}`);
  if (failed) throw thrown;
  return result as T;
}
