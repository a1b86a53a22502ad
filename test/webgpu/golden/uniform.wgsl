// uniform → f32[8]
@group(0) @binding(0) var<storage, read> in0: array<i32>;
@group(0) @binding(1) var<storage, read> in1: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn mulhi32(a: u32, b: u32) -> u32 {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let middle = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return p11 + (p01 >> 16u) + (p10 >> 16u) + (middle >> 16u);
}

fn philox(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { k = k + vec2<u32>(2654435769u, 3144134277u); }
    let hi0 = mulhi32(3528531795u, c.x);
    let lo0 = 3528531795u * c.x;
    let hi1 = mulhi32(3449720151u, c.z);
    let lo1 = 3449720151u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 64u;
  if (i >= 8u) { return; }
  let seed = bitcast<u32>(in0[0]);
  let step = bitcast<u32>(in1[0]);
  let words = philox(vec4<u32>(i / 4u, 0u, step, 0u), vec2<u32>(seed, 3u));
  let lane = i % 4u;
  out[i] = f32(words[lane] >> 8u) * 5.960464477539063e-8f;
}
