// GPU buffers pooled by role: grown when a call needs more, reused otherwise, with a high-water mark of the bytes
// alive at once (RunStats.peakBytes). The usage flags every GPU path of the library uses live here. One pool
// belongs to one GpuRuntime (src/gpu/runtime.ts) and so to one engine: engine runs, training, loss evaluation and
// studies take their buffers from it, one call at a time.

export const BufferUsage = {
  MAP_READ: 0x1,
  COPY_SRC: 0x4,
  COPY_DST: 0x8,
  UNIFORM: 0x40,
  STORAGE: 0x80,
  QUERY_RESOLVE: 0x200,
} as const; // GPUBufferUsage values, spelled out so modules load before the WebGPU globals exist.

export class BufferPool {
  private readonly buffers = new Map<string, GPUBuffer>();
  private peak = 0;
  constructor(private readonly device: GPUDevice) {}

  /**
   * The buffer of `role`: at least `bytes` (rounded up to 16) with exactly `usage`. Reused when the one held is big
   * enough, so its contents are whatever the last user left: write or clear what the kernels read.
   */
  get(role: string, bytes: number, usage: number): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const old = this.buffers.get(role);
    if (old && old.size >= size && old.usage === usage) return old;
    old?.destroy();
    this.buffers.delete(role);
    const buf = this.device.createBuffer({ label: `webgpu-rnn ${role}`, size, usage });
    this.buffers.set(role, buf);
    this.peak = Math.max(this.peak, this.bytes());
    return buf;
  }

  /** The buffer of `role` (COPY_DST added to `usage`) holding `values` from byte 0. */
  data(role: string, values: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>, usage: number): GPUBuffer {
    const b = this.get(role, values.byteLength, usage | BufferUsage.COPY_DST);
    this.device.queue.writeBuffer(b, 0, values);
    return b;
  }

  /** Bytes of every buffer the pool holds now. */
  bytes(): number {
    let total = 0;
    for (const b of this.buffers.values()) total += b.size;
    return total;
  }

  /** Starts a new high-water mark at the bytes held now. */
  resetPeak(): void {
    this.peak = this.bytes();
  }

  /** The most bytes held at once since the last resetPeak. */
  peakBytes(): number {
    return Math.max(this.peak, this.bytes());
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
  }
}
