// Known adapters' peak memory bandwidth and FP32 rate (browser-safe), matched on the WebGPU adapter info, so the
// benchmark can report the fraction of peak. Figures are the vendors' data-sheet numbers (non-tensor FP32).

export interface AdapterPeak {
  name: string;
  /** Peak memory bandwidth, GB/s. */
  bandwidthGBps: number;
  /** Peak FP32 rate (non-tensor), GFLOP/s. */
  fp32Gflops: number;
}

export interface AdapterIdentity {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** First match wins: more specific patterns come first. Matched against "vendor architecture device description". */
const KNOWN: { pattern: RegExp; peak: AdapterPeak }[] = [
  { pattern: /H100.*(PCIe|PCI-E)/i, peak: { name: 'NVIDIA H100 PCIe', bandwidthGBps: 2000, fp32Gflops: 51_200 } },
  { pattern: /H100.*NVL/i, peak: { name: 'NVIDIA H100 NVL', bandwidthGBps: 3900, fp32Gflops: 60_000 } },
  { pattern: /H100/i, peak: { name: 'NVIDIA H100 SXM', bandwidthGBps: 3350, fp32Gflops: 66_900 } },
  { pattern: /H200/i, peak: { name: 'NVIDIA H200 SXM', bandwidthGBps: 4800, fp32Gflops: 66_900 } },
  { pattern: /A100.*80\s*GB/i, peak: { name: 'NVIDIA A100 80GB SXM', bandwidthGBps: 2039, fp32Gflops: 19_500 } },
  { pattern: /A100/i, peak: { name: 'NVIDIA A100 40GB', bandwidthGBps: 1555, fp32Gflops: 19_500 } },
  { pattern: /RTX 4090/i, peak: { name: 'NVIDIA GeForce RTX 4090', bandwidthGBps: 1008, fp32Gflops: 82_600 } },
  { pattern: /RTX 3090/i, peak: { name: 'NVIDIA GeForce RTX 3090', bandwidthGBps: 936, fp32Gflops: 35_600 } },
  { pattern: /Apple M1 Max/i, peak: { name: 'Apple M1 Max (32-core GPU)', bandwidthGBps: 400, fp32Gflops: 10_400 } },
  { pattern: /Apple M1 Pro/i, peak: { name: 'Apple M1 Pro (16-core GPU)', bandwidthGBps: 200, fp32Gflops: 5_200 } },
  { pattern: /Apple M1/i, peak: { name: 'Apple M1 (8-core GPU)', bandwidthGBps: 68.25, fp32Gflops: 2_600 } },
  { pattern: /Apple M2 Max/i, peak: { name: 'Apple M2 Max (38-core GPU)', bandwidthGBps: 400, fp32Gflops: 13_600 } },
  { pattern: /Apple M2 Pro/i, peak: { name: 'Apple M2 Pro (19-core GPU)', bandwidthGBps: 200, fp32Gflops: 6_800 } },
  { pattern: /Apple M2/i, peak: { name: 'Apple M2 (10-core GPU)', bandwidthGBps: 100, fp32Gflops: 3_600 } },
  { pattern: /Apple M3 Max/i, peak: { name: 'Apple M3 Max (40-core GPU)', bandwidthGBps: 400, fp32Gflops: 16_400 } },
  { pattern: /Apple M3 Pro/i, peak: { name: 'Apple M3 Pro (18-core GPU)', bandwidthGBps: 150, fp32Gflops: 7_400 } },
  { pattern: /Apple M3/i, peak: { name: 'Apple M3 (10-core GPU)', bandwidthGBps: 100, fp32Gflops: 4_100 } },
];

/** True for a CPU-emulated adapter (SwiftShader, llvmpipe, WARP): its limit is the CPU's, see the copy probes. */
export function isSoftwareAdapter(a: AdapterIdentity): boolean {
  return /swiftshader|llvmpipe|lavapipe|warp|software/i.test(
    `${a.vendor} ${a.architecture} ${a.device} ${a.description}`,
  );
}

/** The known peak for this adapter, or null (unknown adapters and software adapters). */
export function knownPeak(a: AdapterIdentity): AdapterPeak | null {
  if (isSoftwareAdapter(a)) return null;
  const text = `${a.vendor} ${a.architecture} ${a.device} ${a.description}`;
  return KNOWN.find((k) => k.pattern.test(text))?.peak ?? null;
}

export function adapterIdentity(info: GPUAdapterInfo | undefined): AdapterIdentity {
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  };
}

/** `--adapter`: which Vulkan driver Dawn should use in Node (auto: the engine's own choice). */
export const ADAPTER_CHOICES = ['auto', 'swiftshader', 'lavapipe', 'hardware'] as const;
export type AdapterChoice = (typeof ADAPTER_CHOICES)[number];

/** Why the adapter at hand is not the one asked for, or null when it is (or when `auto` was asked). */
export function adapterMismatch(choice: AdapterChoice, a: AdapterIdentity): string | null {
  const text = `${a.vendor} ${a.architecture} ${a.device} ${a.description}`;
  const ok =
    choice === 'auto' ||
    (choice === 'swiftshader' && /swiftshader/i.test(text)) ||
    (choice === 'lavapipe' && /llvmpipe|lavapipe/i.test(text)) ||
    (choice === 'hardware' && !isSoftwareAdapter(a));
  return ok ? null : `asked for the ${choice} adapter but got "${text.replace(/\s+/g, ' ').trim()}"`;
}
