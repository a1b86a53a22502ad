/// <reference types="@webgpu/types" />
/**
 * The fixed kernels a training loop runs on the GPU around a step's graph,
 * so that the host neither copies nor checks a batch and reads a loss back
 * only now and then:
 *
 * - `scan`: the index of the first element of a float32 buffer that is not
 *   finite (the finiteness check of a batch or a data set), by `atomicMin`
 *   into one word of a flag buffer (`NONE` where all are finite);
 * - `gather`: examples `order[begin .. begin + count)` of a data set into a
 *   batch input (word copies: f32 and i32 alike);
 * - `guard`: after a step, copies its loss into slot `slot` of a loss buffer
 *   and raises a status word when the loss is not finite;
 * - `commit`: copies outputs into tensors (a step's `new:` values), unless the
 *   status word is raised: an update whose loss (or an earlier one's in the
 *   window) is not finite is never applied — the NaN guard, on the GPU.
 *
 * Finiteness is tested on the bits (exponent all ones), which no compiler's
 * fast-math rewrites. The shader texts are constants of this file (the
 * commit shader's only parameter is a count of pairs this code picks), so
 * nothing from a user's program reaches them.
 */

// GPUBufferUsage flags, spelled out so that no global is needed.
const STORAGE = 0x80;
const UNIFORM = 0x40;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const COMPUTE = 0x4; // GPUShaderStage.COMPUTE

/** The flag word of a scan that found no element that is not finite. */
export const NONE = 0xffffffff;

/** Workgroups of the grid-stride kernels: enough to fill a large GPU, few enough to stay cheap on a small job. */
const MAX_GROUPS = 1024;
const GROUP = 256;

const SCAN = /* wgsl */ `
struct Args { count: u32, slot: u32 }
@group(0) @binding(0) var<storage, read> data: array<u32>;
@group(0) @binding(1) var<storage, read_write> first: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> args: Args;
@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
  let stride = n.x * ${GROUP}u;
  for (var i = g.x; i < args.count; i += stride) {
    if ((data[i] & 0x7f800000u) == 0x7f800000u) {
      atomicMin(&first[args.slot], i);
      return;
    }
  }
}`;

const GATHER = /* wgsl */ `
struct Args { begin: u32, count: u32, size: u32 }
@group(0) @binding(0) var<storage, read> data: array<u32>;
@group(0) @binding(1) var<storage, read> order: array<u32>;
@group(0) @binding(2) var<storage, read_write> batch: array<u32>;
@group(0) @binding(3) var<uniform> args: Args;
@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
  let stride = n.x * ${GROUP}u;
  let total = args.count * args.size;
  for (var i = g.x; i < total; i += stride) {
    let row = i / args.size;
    let col = i - row * args.size;
    batch[i] = data[order[args.begin + row] * args.size + col];
  }
}`;

const GUARD = /* wgsl */ `
struct Args { slot: u32 }
@group(0) @binding(0) var<storage, read> loss: array<u32>;
@group(0) @binding(1) var<storage, read_write> status: array<u32>;
@group(0) @binding(2) var<storage, read_write> losses: array<u32>;
@group(0) @binding(3) var<uniform> args: Args;
@compute @workgroup_size(1)
fn main() {
  let l = loss[0];
  losses[args.slot] = l;
  if ((l & 0x7f800000u) == 0x7f800000u) {
    status[0] = 1u;
  }
}`;

/** The commit shader for `pairs` (source, target) pairs: binding 0 the status, then each pair's source and target, then the counts. */
function commitShader(pairs: number): string {
  if (!Number.isInteger(pairs) || pairs < 1 || pairs > 64) throw new Error(`webgpu: internal error: a commit of ${pairs} pairs`);
  const lines: string[] = [
    `struct Args { counts: array<vec4u, ${Math.ceil(pairs / 4)}> }`,
    `@group(0) @binding(0) var<storage, read> status: array<u32>;`,
  ];
  for (let p = 0; p < pairs; p++) {
    lines.push(`@group(0) @binding(${1 + 2 * p}) var<storage, read> s${p}: array<u32>;`);
    lines.push(`@group(0) @binding(${2 + 2 * p}) var<storage, read_write> t${p}: array<u32>;`);
  }
  lines.push(`@group(0) @binding(${1 + 2 * pairs}) var<uniform> args: Args;`);
  lines.push(`@compute @workgroup_size(${GROUP})`);
  lines.push(`fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {`);
  lines.push(`  if (status[0] != 0u) { return; }`);
  lines.push(`  let stride = n.x * ${GROUP}u;`);
  for (let p = 0; p < pairs; p++) {
    lines.push(`  for (var i = g.x; i < args.counts[${p >> 2}][${p & 3}]; i += stride) { t${p}[i] = s${p}[i]; }`);
  }
  lines.push(`}`);
  return lines.join("\n");
}

interface Pipeline {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

/** A kernel ready to dispatch: its pipeline, bind group and workgroups (and its uniform, which `set` writes). */
export interface DeviceKernel {
  /** Writes the kernel's arguments (words of its uniform) on the queue: seen by the next submit. */
  set(words: readonly number[]): void;
  encode(pass: GPUComputePassEncoder): void;
  /** Releases its uniform buffer. */
  destroy(): void;
}

/** The fixed kernels on one device, their pipelines made once. */
export class DeviceKernels {
  private readonly pipelines = new Map<string, Pipeline>();
  /** (source, target) pairs one commit dispatch copies: as many as the device's storage bindings allow. */
  readonly pairsPerCommit: number;

  constructor(readonly device: GPUDevice) {
    this.pairsPerCommit = Math.max(1, Math.min(8, Math.floor((device.limits.maxStorageBuffersPerShaderStage - 1) / 2)));
  }

  /** A buffer for the kernels' own use (flags, status words, losses, orders, data sets). */
  buffer(bytes: number, usage = STORAGE | COPY_SRC | COPY_DST): GPUBuffer {
    return this.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage });
  }

  /** Scans `count` float32 words of `data`; the index of the first that is not finite goes to word `slot` of `flags` (which must hold `NONE` before). */
  scan(data: GPUBuffer, count: number, flags: GPUBuffer, slot: number): DeviceKernel {
    const k = this.kernel("scan", SCAN, ["read-only-storage", "storage"], [data, flags], 8, Math.ceil(count / GROUP));
    k.set([count, slot]);
    return k;
  }

  /** Gathers examples of `size` words from `data` by `order` into `batch`; `set([begin, count, size])` before each use. */
  gather(data: GPUBuffer, order: GPUBuffer, batch: GPUBuffer, words: number): DeviceKernel {
    return this.kernel("gather", GATHER, ["read-only-storage", "read-only-storage", "storage"], [data, order, batch], 12, Math.ceil(words / GROUP));
  }

  /** Copies the loss in `loss` to slot `set([slot])` of `losses` and raises `status` when it is not finite. */
  guard(loss: GPUBuffer, status: GPUBuffer, losses: GPUBuffer): DeviceKernel {
    return this.kernel("guard", GUARD, ["read-only-storage", "storage", "storage"], [loss, status, losses], 4, 1);
  }

  /** Copies each pair's `words` words from source to target unless `status` is raised: one dispatch per `pairsPerCommit` pairs. */
  commit(status: GPUBuffer, pairs: readonly { readonly source: GPUBuffer; readonly target: GPUBuffer; readonly words: number }[]): DeviceKernel[] {
    const kernels: DeviceKernel[] = [];
    for (let at = 0; at < pairs.length; at += this.pairsPerCommit) {
      const chunk = pairs.slice(at, at + this.pairsPerCommit);
      const n = chunk.length;
      const kinds: GPUBufferBindingType[] = ["read-only-storage"];
      const buffers: GPUBuffer[] = [status];
      for (const p of chunk) {
        kinds.push("read-only-storage", "storage");
        buffers.push(p.source, p.target);
      }
      const most = Math.max(...chunk.map((p) => p.words));
      const k = this.kernel(`commit${n}`, commitShader(n), kinds, buffers, 16 * Math.ceil(n / 4), Math.ceil(most / GROUP));
      const counts = new Array<number>(4 * Math.ceil(n / 4)).fill(0);
      chunk.forEach((p, i) => (counts[i] = p.words));
      k.set(counts);
      kernels.push(k);
    }
    return kernels;
  }

  private kernel(name: string, wgsl: string, kinds: readonly GPUBufferBindingType[], buffers: readonly GPUBuffer[], argBytes: number, groups: number): DeviceKernel {
    const { pipeline, layout } = this.pipeline(name, wgsl, kinds);
    const device = this.device;
    const args = device.createBuffer({ size: Math.max(16, argBytes), usage: UNIFORM | COPY_DST });
    const bindGroup = device.createBindGroup({
      layout,
      entries: [...buffers.map((buffer, binding) => ({ binding, resource: { buffer } })), { binding: buffers.length, resource: { buffer: args } }],
    });
    const workgroups = Math.max(1, Math.min(MAX_GROUPS, groups));
    return {
      set(words: readonly number[]): void {
        device.queue.writeBuffer(args, 0, Uint32Array.from(words));
      },
      encode(pass: GPUComputePassEncoder): void {
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(workgroups);
      },
      destroy(): void {
        args.destroy();
      },
    };
  }

  private pipeline(name: string, wgsl: string, kinds: readonly GPUBufferBindingType[]): Pipeline {
    let p = this.pipelines.get(name);
    if (p !== undefined) return p;
    const device = this.device;
    const layout = device.createBindGroupLayout({
      entries: [...kinds, "uniform" as const].map((type, binding) => ({ binding, visibility: COMPUTE, buffer: { type } })),
    });
    const pipeline = device.createComputePipeline({
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module: device.createShaderModule({ code: wgsl }), entryPoint: "main" },
    });
    p = { pipeline, layout };
    this.pipelines.set(name, p);
    return p;
  }
}

/** The fixed kernels of each device, made once. */
const perDevice = new WeakMap<GPUDevice, DeviceKernels>();

/** The fixed kernels of `device`. */
export function deviceKernels(device: GPUDevice): DeviceKernels {
  let k = perDevice.get(device);
  if (k === undefined) perDevice.set(device, (k = new DeviceKernels(device)));
  return k;
}
