// A compiled compute kernel: pipeline + bind group layout built once per device and cached (per device, keyed by
// the shader source, entry point, overrides and dynamic bindings themselves), with the layout derived from the WGSL
// by wgsl_reflect. Bind groups are made by binding *name*, so a host/shader mismatch is an error naming the binding.
// `Kernel.load` creates the pipeline with createComputePipelineAsync; pipelineStats counts creations and their time.

import { GpuError } from '../errors.ts';
import { packUniform, reflectKernel, type KernelReflection } from './reflect.ts';

export interface KernelSpec {
  /** Label for every GPU object of this kernel, e.g. `rnn.bptt[H=4,I=1,O=1,relu,last]`. */
  label: string;
  source: string;
  entry: string;
  /** Values for the WGSL `override` declarations (booleans as 0/1). */
  constants: Record<string, number | boolean>;
  /** Uniform bindings bound with a dynamic offset (one bind group, a different record per dispatch). */
  dynamic?: string[];
}

interface DeviceKernels {
  /** By specKey: the kernel, or its creation while under way. */
  kernels: Map<string, Kernel | Promise<Kernel>>;
  /** Kernel.get's caller-made keys, so a repeated `get` need not rebuild the spec. */
  byCallerKey: Map<string, Kernel>;
  pipelines: number;
  milliseconds: number;
}

const perDevice = new WeakMap<GPUDevice, DeviceKernels>();

function kernelsOf(device: GPUDevice): DeviceKernels {
  let d = perDevice.get(device);
  if (!d) perDevice.set(device, (d = { kernels: new Map(), byCallerKey: new Map(), pipelines: 0, milliseconds: 0 }));
  return d;
}

/** The cache key of a spec: everything that makes the pipeline (not the label). */
export function specKey(spec: KernelSpec): string {
  const constants = Object.entries(spec.constants)
    .map(([k, v]) => [k, typeof v === 'boolean' ? Number(v) : v] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([spec.entry, constants, [...(spec.dynamic ?? [])].sort(), spec.source]);
}

/** Pipelines created on `device` so far, and the wall milliseconds their creation took (summed). */
export function pipelineStats(device: GPUDevice): { pipelines: number; milliseconds: number } {
  const d = perDevice.get(device);
  return { pipelines: d?.pipelines ?? 0, milliseconds: d?.milliseconds ?? 0 };
}

const logPipelines = typeof process !== 'undefined' && process.env?.WEBGPU_RNN_LOG_PIPELINES === '1';

function record(d: DeviceKernels, spec: KernelSpec, ms: number): void {
  d.pipelines++;
  d.milliseconds += ms;
  // For measuring compile times (docs/adapters.md): one stderr line per pipeline created.
  if (logPipelines)
    console.error(`[webgpu-rnn] pipeline ${spec.label}: ${ms.toFixed(0)} ms (${spec.source.length} chars)`);
}

const BUFFER_TYPE: Record<string, GPUBufferBindingType> = {
  uniform: 'uniform',
  'read-only-storage': 'read-only-storage',
  storage: 'storage',
};

/** Reflection, checks and the layouts of a spec: everything but the pipeline. */
function prepare(device: GPUDevice, spec: KernelSpec) {
  const { label, source, entry } = spec;
  const reflection = reflectKernel(label, source, entry);
  for (const name of spec.dynamic ?? []) {
    if (!reflection.bindings.some((b) => b.name === name && b.kind === 'uniform'))
      throw new GpuError(
        `${label}: "${name}" is not a uniform binding of the shader, so it cannot have a dynamic offset`,
      );
  }
  for (const name of Object.keys(spec.constants)) {
    if (!reflection.overrides.includes(name))
      throw new GpuError(`${label}: the host sets override "${name}" but the shader declares no such override`);
  }
  const constants: Record<string, number> = {};
  for (const [k, v] of Object.entries(spec.constants)) constants[k] = typeof v === 'boolean' ? Number(v) : v;
  const layout = device.createBindGroupLayout({
    label: `${label} bind group layout`,
    entries: reflection.bindings.map((b) => ({
      binding: b.binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: BUFFER_TYPE[b.kind], hasDynamicOffset: (spec.dynamic ?? []).includes(b.name) },
    })),
  });
  const module = device.createShaderModule({ label: `${label} module`, code: source });
  const descriptor: GPUComputePipelineDescriptor = {
    label: `${label} pipeline`,
    layout: device.createPipelineLayout({ label: `${label} pipeline layout`, bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: entry, constants },
  };
  return { reflection, layout, descriptor };
}

export class Kernel {
  private constructor(
    readonly device: GPUDevice,
    readonly spec: KernelSpec,
    readonly reflection: KernelReflection,
    readonly layout: GPUBindGroupLayout,
    readonly pipeline: GPUComputePipeline,
  ) {}

  /**
   * The kernel for `spec` on `device`: cached per device by source, entry point, overrides and dynamic bindings;
   * otherwise created with createComputePipelineAsync (concurrent loads of one spec share the creation).
   */
  static load(device: GPUDevice, spec: KernelSpec): Promise<Kernel> {
    const d = kernelsOf(device);
    const key = specKey(spec);
    const have = d.kernels.get(key);
    if (have) return Promise.resolve(have);
    const making = (async () => {
      const { reflection, layout, descriptor } = prepare(device, spec);
      const t0 = performance.now();
      let pipeline: GPUComputePipeline;
      try {
        pipeline = await device.createComputePipelineAsync(descriptor);
      } catch (e) {
        throw new GpuError(`${spec.label}: creating the compute pipeline failed: ${(e as Error).message}`);
      } finally {
        record(d, spec, performance.now() - t0);
      }
      return new Kernel(device, spec, reflection, layout, pipeline);
    })();
    d.kernels.set(key, making);
    making.then(
      (k) => d.kernels.set(key, k),
      () => d.kernels.delete(key),
    );
    return making;
  }

  /** `load`'s synchronous twin: the cached kernel for `spec`, or one created now with createComputePipeline. */
  static create(device: GPUDevice, spec: KernelSpec): Kernel {
    const key = specKey(spec);
    return Kernel.get(device, key, () => spec);
  }

  /**
   * The kernel for `make()` on `device`, created synchronously on first use (createComputePipeline). `key` names the
   * spec for this caller; the cache itself is keyed like `load`, so both find each other's kernels. Prefer `load`.
   */
  static get(device: GPUDevice, key: string, make: () => KernelSpec): Kernel {
    const d = kernelsOf(device);
    const known = d.byCallerKey.get(key);
    if (known) return known;
    const spec = make();
    const full = specKey(spec);
    const have = d.kernels.get(full);
    let k: Kernel;
    if (have instanceof Kernel) {
      k = have;
    } else {
      // Not made yet, or an async creation under way (its result is equal; this one replaces it in the cache).
      const { reflection, layout, descriptor } = prepare(device, spec);
      const t0 = performance.now();
      const pipeline = device.createComputePipeline(descriptor);
      record(d, spec, performance.now() - t0);
      k = new Kernel(device, spec, reflection, layout, pipeline);
      if (!have) d.kernels.set(full, k);
    }
    d.byCallerKey.set(key, k);
    return k;
  }

  /** A bind group from buffers named as in the WGSL. Missing or unknown names throw, naming the binding. */
  bind(label: string, buffers: Record<string, GPUBuffer | GPUBufferBinding>): GPUBindGroup {
    const names = new Set(this.reflection.bindings.map((b) => b.name));
    for (const name of Object.keys(buffers)) {
      if (!names.has(name))
        throw new GpuError(
          `${this.spec.label}: the host binds "${name}" but entry point "${this.spec.entry}" uses no such binding`,
        );
    }
    const entries = this.reflection.bindings.map((b) => {
      const res = buffers[b.name];
      if (!res)
        throw new GpuError(
          `${this.spec.label}: the shader's binding "${b.name}" (@binding(${b.binding})) has no buffer from the host`,
        );
      return { binding: b.binding, resource: 'buffer' in res ? res : { buffer: res } };
    });
    return this.device.createBindGroup({ label: `${this.spec.label} ${label}`, layout: this.layout, entries });
  }

  /** Bytes for the uniform binding `name`, packed at the offsets the WGSL struct declares. */
  uniform(name: string, values: Record<string, number>): ArrayBuffer {
    const layout = this.reflection.uniforms[name];
    if (!layout) throw new GpuError(`${this.spec.label}: the shader has no uniform binding "${name}"`);
    return packUniform(this.spec.label, layout, values);
  }
}

/** Workgroup counts for `groups` workgroups, folded into 2D when past the per-dimension limit. */
export function foldDispatch(groups: number, maxPerDim: number): [number, number] {
  if (groups <= maxPerDim) return [Math.max(1, groups), 1];
  const y = Math.ceil(groups / maxPerDim);
  const x = Math.ceil(groups / y);
  if (y > maxPerDim)
    throw new GpuError(`${groups} workgroups exceed ${maxPerDim}² (maxComputeWorkgroupsPerDimension squared)`);
  return [x, y];
}
