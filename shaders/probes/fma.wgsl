// fma.wgsl — the benchmark's arithmetic probe: every invocation runs `iterations` rounds of 32 vec4<f32>
// multiply-adds (2 independent accumulators × 16 unrolled) with nothing read from memory, so the adapter's FP32
// rate is the only limit. Two accumulators keep eight independent chains per invocation (enough to hide the
// latency), while a software adapter that runs 4–8 invocations per SIMD register still holds them all in registers. Each round is 32 × 4 lanes × 2 FLOPs = 256 FLOPs per invocation. The accumulators
// converge (a ← a·m + c with |m| < 1), so no value overflows or turns denormal. The one store happens only when
// the sum equals `never` (which the host makes unreachable), so the compiler cannot drop the arithmetic and no
// memory traffic is timed. Workgroups past 65535 are folded into 2D by the host.

override WG: u32 = 256u;

struct Params {
  count: u32,       // invocations that do the work (the tail of the last workgroup is guarded off)
  iterations: u32,  // rounds of 32 vec4 multiply-adds
  m: f32,           // multiplier, |m| < 1
  c: f32,           // addend
  never: f32,       // a value the final sum never takes
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> sink: array<vec4f>;

@compute @workgroup_size(WG)
fn fma_probe(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
             @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= params.count) { return; }
  let m = vec4f(params.m);
  let c = vec4f(params.c);
  let s = f32(i & 255u) * 1e-3;
  var a0 = vec4f(s, s + 0.1, s + 0.2, s + 0.3);
  var a1 = a0 + vec4f(0.05);
  for (var k = 0u; k < params.iterations; k++) {
    for (var u = 0u; u < 16u; u++) {
      a0 = a0 * m + c;
      a1 = a1 * m + c;
    }
  }
  let v = a0 + a1;
  if (v.x + v.y + v.z + v.w == params.never) { sink[0] = v; }
}
