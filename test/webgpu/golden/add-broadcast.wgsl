// add → f32[2, 3]
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 6u) { return; }
  let a = in0[i];
  let b = in1[i];
  out[i] = a + b;
}
