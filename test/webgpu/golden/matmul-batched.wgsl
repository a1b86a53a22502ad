// matmul → f32[3, 2, 4, 6]
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 192u;
  if (i >= 144u) { return; }
  let c0 = (i / 48u);
  let c1 = (i / 24u) % 2u;
  let c2 = (i / 6u) % 4u;
  let c3 = i % 6u;
  let a0 = c0 * 20u + c2 * 5u;
  let b0 = c1 * 30u + c3;
  var acc = 0.0f;
  for (var p = 0u; p < 5u; p++) {
    acc = acc + in0[a0 + p] * in1[b0 + p * 6u];
  }
  out[i] = acc;
}
