// A compiled compute kernel: pipeline + bind group layout built once per device and cached (WeakMap keyed by
// device), with the layout derived from the WGSL by wgsl_reflect. Bind groups are made by binding *name*, so a
// host/shader mismatch is an error naming the binding.

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

const cache = new WeakMap<GPUDevice, Map<string, Kernel>>();

const BUFFER_TYPE: Record<string, GPUBufferBindingType> = {
  uniform: 'uniform',
  'read-only-storage': 'read-only-storage',
  storage: 'storage',
};

export class Kernel {
  readonly reflection: KernelReflection;
  readonly layout: GPUBindGroupLayout;
  readonly pipeline: GPUComputePipeline;

  private constructor(
    readonly device: GPUDevice,
    readonly spec: KernelSpec,
  ) {
    const { label, source, entry } = spec;
    this.reflection = reflectKernel(label, source, entry);
    for (const name of spec.dynamic ?? []) {
      if (!this.reflection.bindings.some((b) => b.name === name && b.kind === 'uniform')) throw new GpuError(`${label}: "${name}" is not a uniform binding of the shader, so it cannot have a dynamic offset`);
    }
    for (const name of Object.keys(spec.constants)) {
      if (!this.reflection.overrides.includes(name)) throw new GpuError(`${label}: the host sets override "${name}" but the shader declares no such override`);
    }
    const constants: Record<string, number> = {};
    for (const [k, v] of Object.entries(spec.constants)) constants[k] = typeof v === 'boolean' ? Number(v) : v;
    this.layout = device.createBindGroupLayout({
      label: `${label} bind group layout`,
      entries: this.reflection.bindings.map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: BUFFER_TYPE[b.kind], hasDynamicOffset: (spec.dynamic ?? []).includes(b.name) },
      })),
    });
    const module = device.createShaderModule({ label: `${label} module`, code: source });
    this.pipeline = device.createComputePipeline({
      label: `${label} pipeline`,
      layout: device.createPipelineLayout({ label: `${label} pipeline layout`, bindGroupLayouts: [this.layout] }),
      compute: { module, entryPoint: entry, constants },
    });
  }

  /** The kernel for `spec` on `device`, compiled on first use. `key` must identify source, entry and constants. */
  static get(device: GPUDevice, key: string, make: () => KernelSpec): Kernel {
    let perDevice = cache.get(device);
    if (!perDevice) cache.set(device, (perDevice = new Map()));
    let k = perDevice.get(key);
    if (!k) perDevice.set(key, (k = new Kernel(device, make())));
    return k;
  }

  /** A bind group from buffers named as in the WGSL. Missing or unknown names throw, naming the binding. */
  bind(label: string, buffers: Record<string, GPUBuffer | GPUBufferBinding>): GPUBindGroup {
    const names = new Set(this.reflection.bindings.map((b) => b.name));
    for (const name of Object.keys(buffers)) {
      if (!names.has(name)) throw new GpuError(`${this.spec.label}: the host binds "${name}" but entry point "${this.spec.entry}" uses no such binding`);
    }
    const entries = this.reflection.bindings.map((b) => {
      const res = buffers[b.name];
      if (!res) throw new GpuError(`${this.spec.label}: the shader's binding "${b.name}" (@binding(${b.binding})) has no buffer from the host`);
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
  if (y > maxPerDim) throw new GpuError(`${groups} workgroups exceed ${maxPerDim}² (maxComputeWorkgroupsPerDimension squared)`);
  return [x, y];
}
