// fused reshape, expand, add → f32[2, 3]
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 6u) { return; }
  let t0 = in0[i];
  let j1 = (i % 3u);
  let t2 = in1[j1];
  let t3 = t0 + t2;
  out[i] = t3;
}
