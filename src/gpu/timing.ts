// GpuTimer: `timestamp-query` pairs around the compute passes of one run, resolved in the run's last encoder and
// summed on the host. Opt-in for benchmarks (GpuOptions.timestamps); needs the device feature 'timestamp-query'.

const QUERY_RESOLVE = 0x200; // GPUBufferUsage.QUERY_RESOLVE, spelled out so this module loads before the globals exist
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const MAP_READ = 0x1;
/** The most queries one query set may hold (WebGPU's limit). */
const MAX_QUERIES = 4096;

export class GpuTimer {
  private readonly set: GPUQuerySet;
  private readonly resolveBuf: GPUBuffer;
  private readonly readBuf: GPUBuffer;
  private used = 0;
  /** Passes that asked for timestamps after the query set was full: the total is then incomplete. */
  private missed = 0;
  private finished = 0;

  private constructor(
    device: GPUDevice,
    readonly maxPasses: number,
  ) {
    const count = 2 * maxPasses;
    this.set = device.createQuerySet({ label: 'webgpu-rnn timestamps', type: 'timestamp', count });
    this.resolveBuf = device.createBuffer({
      label: 'webgpu-rnn timestamps resolve',
      size: count * 8,
      usage: QUERY_RESOLVE | COPY_SRC,
    });
    this.readBuf = device.createBuffer({
      label: 'webgpu-rnn timestamps readback',
      size: count * 8,
      usage: MAP_READ | COPY_DST,
    });
  }

  /** A timer for up to `maxPasses` passes (capped by the query-set limit), or null without 'timestamp-query'. */
  static create(device: GPUDevice, maxPasses: number): GpuTimer | null {
    if (!device.features.has('timestamp-query')) return null;
    return new GpuTimer(device, Math.max(1, Math.min(maxPasses, MAX_QUERIES / 2)));
  }

  /** Pass-descriptor members that time the next pass: spread them into `beginComputePass({...})`. */
  pass(): { timestampWrites?: GPUComputePassTimestampWrites } {
    if (this.used >= this.maxPasses) {
      this.missed++;
      return {};
    }
    const k = this.used++;
    return {
      timestampWrites: { querySet: this.set, beginningOfPassWriteIndex: 2 * k, endOfPassWriteIndex: 2 * k + 1 },
    };
  }

  /** Records the resolve and the copy for readback into the run's last encoder, after all its passes. */
  finish(enc: GPUCommandEncoder): void {
    this.finished = this.used;
    if (this.used === 0) return;
    enc.resolveQuerySet(this.set, 0, 2 * this.used, this.resolveBuf, 0);
    enc.copyBufferToBuffer(this.resolveBuf, 0, this.readBuf, 0, 16 * this.used);
  }

  /**
   * After the encoder given to `finish` was submitted: the summed duration of the timed passes in nanoseconds,
   * or null if some pass went untimed. Frees the timer's GPU objects.
   */
  async read(): Promise<number | null> {
    try {
      if (this.missed > 0 || this.finished === 0) return null;
      const bytes = 16 * this.finished;
      await this.readBuf.mapAsync(MAP_READ, 0, bytes);
      const t = new BigUint64Array(this.readBuf.getMappedRange(0, bytes).slice(0));
      this.readBuf.unmap();
      let ns = 0;
      for (let k = 0; k < this.finished; k++) {
        const d = t[2 * k + 1] - t[2 * k];
        if (d > 0n) ns += Number(d); // implementations may return 0 (or reorder) for passes they cannot time
      }
      return ns;
    } finally {
      this.destroy();
    }
  }

  destroy(): void {
    this.set.destroy();
    this.resolveBuf.destroy();
    this.readBuf.destroy();
  }
}
