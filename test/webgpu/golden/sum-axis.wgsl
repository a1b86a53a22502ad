// sum → f32[1, 5, 1]
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 5u) { return; }
  let c0 = 0u;
  let c1 = i % 5u;
  let c2 = 0u;
  let base = c1 * 6u;
  var acc = 0.0f;
  for (var r = 0u; r < 24u; r++) {
    let v = in0[base + (r / 6u) * 30u + r % 6u];
    acc = acc + v;
  }
  out[i] = acc;
}
