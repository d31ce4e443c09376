// GPU buffers pooled by role: grown when a run needs more, reused otherwise, with a high-water mark of the bytes
// alive at once (RunStats.peakBytes).

export const BufferUsage = {
  STORAGE: 0x80,
  COPY_DST: 0x8,
  COPY_SRC: 0x4,
  MAP_READ: 0x1,
  UNIFORM: 0x40,
} as const; // GPUBufferUsage values, spelled out so modules load before the WebGPU globals exist.

export class BufferPool {
  private readonly buffers = new Map<string, GPUBuffer>();
  private peak = 0;
  constructor(private readonly device: GPUDevice) {}

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
