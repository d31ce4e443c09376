// copy.wgsl — the benchmark's memory-bandwidth probe: dst = src, one vec4<f32> per invocation, so each
// invocation reads 16 bytes and writes 16. Workgroups past 65535 are folded into 2D by the host.

override WG: u32 = 256u;

struct Params {
  count: u32,   // number of vec4 values
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;

@compute @workgroup_size(WG)
fn copy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i < params.count) { dst[i] = src[i]; }
}
