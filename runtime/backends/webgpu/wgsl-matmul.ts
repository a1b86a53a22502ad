/**
 * Matmul shaders over strided operands: a workgroup-tiled one (16 × 16
 * invocations, each computing a T × T block (T = 1, 2, 4 or 8, by shape: `blockSide`) of a 16T × 16T output tile from
 * 16-deep tiles of both operands staged in workgroup memory), and a plain one
 * (one invocation per output element) for tiny products. Operands are strided
 * views (`shader-groups.ts`), so a transposed or broadcast operand is read in place
 * (Aᵀ·B and A·Bᵀ of a backward pass need no transpose copy): each tile is
 * loaded along the operand's unit-stride axis, k or the other, so that
 * neighbouring invocations read neighbouring words, and four words at a time
 * (vec4) where that axis and the operand's offsets are multiples of 4; the
 * scalar loads take every other shape (odd sizes, a k of 3, …).
 * Both sum over k in increasing order, as the plain per-kernel renderer does.
 *
 * A product with few output tiles and a long k (a weight gradient: a small
 * output summed over the batch) leaves most of a GPU idle while each
 * workgroup walks k alone; `splitK` cuts k into ranges, and the tiled shader
 * then writes one partial product per range (`SplitK`), summed afterwards in
 * a fixed order by the caller's second dispatch.
 */
import { broadcastShapes, sizeOf, stridesOf } from "../../ir/shape.js";
import type { Shape } from "../../ir/ops.js";
import { u32Lit } from "./wgsl-lib.js";

/** A matmul operand: its logical shape [..., rows, cols] and where element (…, r, c) lies in its binding. */
export interface MatmulOperand {
  /** The binding it is read from: `in0`, `in1`, … */
  readonly binding: number;
  readonly shape: Shape;
  readonly base: number;
  readonly strides: readonly number[];
  /** The element count of the value bound (vec4 loads need a multiple of 4). */
  readonly elements: number;
  /**
   * For an operand that is no strided view (a convolution's windows: pads,
   * slices and concats of an image), statements computing its element at a
   * flat index of its own shape, whose batch axes are then the product's;
   * `binding`, `base` and `strides` are unused.
   */
  readonly load?: (flat: string) => { lines: readonly string[]; value: string };
}

/**
 * Rows of a product taken in groups (pooling in a convolution's epilogue,
 * `wgsl-pool.ts`): per batch z, `windows` groups of `group` rows each (group
 * a power of 2 up to 8), laid out so that one invocation holds a group's
 * rows for each of its columns. The tiled shader then computes only those
 * rows (not necessarily all of the product's), and runs `epilogue` once per
 * group and column, with the group's accumulators, instead of once per element.
 */
export interface RowGroups {
  readonly windows: number;
  readonly group: number;
  /** Statements binding `rr`, the product's row within batch z, for row `e` (a name) of group `win` (a name). */
  readonly row: (win: string, e: string) => string[];
  /** The statements run for group `win` at column `col` (names, in range): `acc(e)` names its e-th row's result. */
  readonly epilogue: (win: string, col: string, acc: (e: number) => string) => string[];
}

/** Products below this many multiply-adds use the plain shader. */
const TINY = 4096;
/** The depth of a k tile. */
const BK = 16;
/** Invocations per side of a workgroup. */
const SIDE = 16;
/** Workgroup memory every WebGPU device gives (`maxComputeWorkgroupStorageSize`'s default). */
const WORKGROUP_BYTES = 16384;
/** The most workgroups along one dispatch dimension (WebGPU's default limit). */
const MAX_GROUPS = 65535;

/** A split of k: `parts` ranges of `depth` (a multiple of the k tile), the last one shorter. */
export interface SplitK {
  readonly parts: number;
  readonly depth: number;
}

/** Split-K applies below this many output tiles (workgroups)… */
const FEW_TILES = 256;
/** …from this k on, */
const LONG_K = 1024;
/** aiming at this many workgroups in all, */
const TARGET_GROUPS = 512;
/** each over at least this many k. */
const MIN_DEPTH = 256;

/** Whether a product of these sizes takes the tiled shader (else the plain one). */
function isTiled(m: number, k: number, n: number, batches: number): boolean {
  return !(m * n * k * batches < TINY || batches > MAX_GROUPS || Math.ceil(m / 32) > MAX_GROUPS || Math.ceil(n / 32) > MAX_GROUPS);
}

/**
 * The side T of the block each invocation computes: the largest that still
 * leaves many workgroups (small products gain more from spreading than from
 * reuse). T = 8 (128 × 128 tiles, 64 accumulators per invocation: what
 * reached 27–35 TFLOP/s on an H200 in shared GPU.md) only where its tiles
 * still fill a large GPU twice over.
 */
export function blockSide(m: number, n: number, batches: number): number {
  const tiles = (side: number): number => Math.ceil(m / side) * Math.ceil(n / side) * batches;
  return tiles(128) >= 256 ? 8 : tiles(64) >= 64 ? 4 : tiles(32) >= 32 ? 2 : 1;
}

/** How to split k of the product of operands of shapes `a` and `b` ([..., m, k] and [..., k, n]), or null to run it whole. */
export function splitK(a: Shape, b: Shape): SplitK | null {
  const [m, k] = a.slice(-2) as [number, number];
  const n = b[b.length - 1]!;
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
  if (batch === null) return null;
  const batches = sizeOf(batch);
  if (k < LONG_K || m * n * batches === 0 || !isTiled(m, k, n, batches)) return null;
  const tile = SIDE * blockSide(m, n, batches);
  const tiles = Math.ceil(m / tile) * Math.ceil(n / tile) * batches;
  if (tiles >= FEW_TILES) return null;
  const wanted = Math.min(Math.ceil(TARGET_GROUPS / tiles), Math.floor(k / MIN_DEPTH));
  const depth = Math.ceil(k / wanted / BK) * BK;
  const parts = Math.ceil(k / depth);
  if (parts < 2 || parts * batches > MAX_GROUPS) return null;
  return { parts, depth };
}

/**
 * The body and dispatch of a matmul (the tiled one with its workgroup
 * memory and `main` signature in `header`). `epilogue` is run for each output
 * element, with `i` its flat index and `mm` its value; by default it writes
 * `out[i] = mm`. With `split` (from `splitK`, tiled only), workgroup z
 * `s · batches + z` sums range s of k alone, and its output elements lie at
 * `(s · batches + z) · m · n + …`: the partials as an array [parts, batches, m, n].
 */
export function renderMatmul(
  a: MatmulOperand,
  b: MatmulOperand,
  out: Shape,
  epilogue = "out[i] = mm;",
  split: SplitK | null = null,
  /** Which operands may be read four at a time (their bindings are then `array<vec4<f32>>`; see `vec4`). */
  vec4: readonly [boolean, boolean] = [false, false],
  /** Rows taken in groups, with an epilogue per group (tiled only, no split). */
  groups: RowGroups | null = null,
): { body: string; header: string; workgroups: [number, number, number]; tiled: boolean; vec4: [boolean, boolean] } {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2))!;
  const batches = sizeOf(batch);
  const as = batchStrides(a, batch);
  const bs = batchStrides(b, batch);
  const [sar, sak] = a.strides.slice(-2) as [number, number];
  const [sbk, sbn] = b.strides.slice(-2) as [number, number];
  // Past the dispatch limit along some dimension, the plain shader (which spills into y) takes it.
  if (groups !== null && (split !== null || vec4[0] || ![1, 2, 4, 8].includes(groups.group))) throw new Error("webgpu: internal error: grouped rows with split-K, vec4 rows or a group not a power of 2 up to 8");
  if (!isTiled(m, k, n, batches) && groups === null) {
    if (split !== null) throw new Error("webgpu: internal error: split-K of a matmul the tiled shader does not take");
    return { ...plain(a, b, out, as, bs, epilogue), tiled: false, vec4: [false, false] };
  }
  // Grouped rows: an invocation's rows lid.y + 16·i hold groups of `group` consecutive i, so T is a multiple of it.
  const t = groups === null ? blockSide(m, n, batches) : Math.max(blockSide(groups.windows * groups.group, n, batches), groups.group);
  const tile = SIDE * t;
  // Rows of the staged tiles are padded by one word, so that stores along k hit distinct memory banks, where
  // both tiles still fit WebGPU's guaranteed 16 KiB of workgroup memory (not at 128 × 128: exactly 16 KiB unpadded).
  const row = 2 * (tile + 1) * BK * 4 <= WORKGROUP_BYTES ? tile + 1 : tile;
  const lines: string[] = [];
  lines.push(split === null ? "let z = wg.z;" : `let z = wg.z % ${u32Lit(batches)};`);
  lines.push(...batchCoords(batch, "z"));
  lines.push(`let abase = ${batchSum(a.base, as)};`, `let bbase = ${batchSum(b.base, bs)};`);
  lines.push(`let row0 = wg.y * ${u32Lit(tile)};`, `let col0 = wg.x * ${u32Lit(tile)};`, `let t = lid.y * ${u32Lit(SIDE)} + lid.x;`);
  lines.push(`var acc: array<f32, ${t * t}>;`);
  if (split === null) lines.push(`for (var k0 = 0u; k0 < ${u32Lit(k)}; k0 += ${u32Lit(BK)}) {`);
  else {
    // The range ends at a multiple of BK or at k, so the loads' `gk < k` bounds it.
    lines.push(`let kbegin = (wg.z / ${u32Lit(batches)}) * ${u32Lit(split.depth)};`, `let kend = min(kbegin + ${u32Lit(split.depth)}, ${u32Lit(k)});`);
    lines.push(`for (var k0 = kbegin; k0 < kend; k0 += ${u32Lit(BK)}) {`);
  }
  // Consecutive invocations load along the operand's unit stride, so their reads coalesce; four at a time
  // (one vec4 load) where that axis and every offset are multiples of 4 and the caller allows it.
  const aAlongK = sak === 1 || sar !== 1;
  const va = vec4[0] && aligned(a, as, aAlongK ? k : m, aAlongK ? sak : sar, aAlongK ? sar : sak);
  const rowOf = groups === null ? undefined : { ...groups, perTile: tile / groups.group };
  lines.push(...stage(`in${a.binding}`, "As", { alongK: aAlongK, vec: va, outer: m, ostride: sar, kstride: sak, origin: "row0", base: "abase", load: a.load, flat: `(z * ${u32Lit(m)} + go) * ${u32Lit(k)} + gk`, groups: rowOf }, tile, k, row));
  const bAlongN = sbn === 1 || sbk !== 1;
  const vb = vec4[1] && aligned(b, bs, bAlongN ? n : k, bAlongN ? sbn : sbk, bAlongN ? sbk : sbn);
  lines.push(...stage(`in${b.binding}`, "Bs", { alongK: !bAlongN, vec: vb, outer: n, ostride: sbn, kstride: sbk, origin: "col0", base: "bbase", load: b.load, flat: `(z * ${u32Lit(k)} + gk) * ${u32Lit(n)} + go` }, tile, k, row));
  lines.push(
    "  workgroupBarrier();",
    `  for (var kk = 0u; kk < ${u32Lit(BK)}; kk++) {`,
  );
  for (let i = 0; i < t; i++) lines.push(`    let a${i} = As[kk * ${u32Lit(row)} + lid.y + ${u32Lit(SIDE * i)}];`);
  for (let j = 0; j < t; j++) lines.push(`    let b${j} = Bs[kk * ${u32Lit(row)} + lid.x + ${u32Lit(SIDE * j)}];`);
  for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) lines.push(`    acc[${i * t + j}] = acc[${i * t + j}] + a${i} * b${j};`);
  lines.push("  }", "  workgroupBarrier();", "}");
  if (groups !== null) {
    for (let g = 0; g < t / groups.group; g++) {
      for (let j = 0; j < t; j++) {
        lines.push(
          "{",
          `  let win = wg.y * ${u32Lit(tile / groups.group)} + lid.y + ${u32Lit(SIDE * g)};`,
          `  let col = col0 + lid.x + ${u32Lit(SIDE * j)};`,
          `  if (win < ${u32Lit(groups.windows)} && col < ${u32Lit(n)}) {`,
          ...groups.epilogue("win", "col", (e) => `acc[${(g * groups.group + e) * t + j}]`).map((l) => `    ${l}`),
          "  }",
          "}",
        );
      }
    }
  }
  if (groups === null) lines.push(`let obase = ${split === null ? "z" : "wg.z"} * ${u32Lit(m * n)};`);
  for (let i = 0; i < (groups === null ? t : 0); i++) {
    lines.push(`let r${i} = row0 + lid.y + ${u32Lit(SIDE * i)};`);
    for (let j = 0; j < t; j++) {
      lines.push(
        `if (r${i} < ${u32Lit(m)} && col0 + lid.x + ${u32Lit(SIDE * j)} < ${u32Lit(n)}) {`,
        `  let i = obase + r${i} * ${u32Lit(n)} + col0 + lid.x + ${u32Lit(SIDE * j)};`,
        `  let mm = acc[${i * t + j}];`,
        ...epilogue.split("\n").map((l) => `  ${l}`),
        "}",
      );
    }
  }
  const header = [
    `var<workgroup> As: array<f32, ${row * BK}>;`,
    `var<workgroup> Bs: array<f32, ${row * BK}>;`,
    "",
    `@compute @workgroup_size(${SIDE}, ${SIDE})`,
    "fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {",
  ].join("\n");
  const rows = groups === null ? Math.ceil(m / tile) : Math.ceil(groups.windows / (tile / groups.group));
  return { header, body: lines.join("\n"), workgroups: [Math.ceil(n / tile), rows, batches * (split?.parts ?? 1)], tiled: true, vec4: [va, vb] };
}

/** How one operand's tile is staged: along which axis consecutive invocations read, four at a time or not, and its sizes. */
interface Staging {
  /** Consecutive loads along k (else along the outer axis: A's rows, B's columns). */
  readonly alongK: boolean;
  /** vec4 loads (the binding is then an `array<vec4<f32>>`). */
  readonly vec: boolean;
  readonly outer: number;
  readonly ostride: number;
  readonly kstride: number;
  /** The tile's first outer index, and the operand's batch offset (names). */
  readonly origin: string;
  readonly base: string;
  /** An evaluated operand (`MatmulOperand.load`), and its element's flat index from `go`, `gk` and the batch `z`. */
  readonly load?: MatmulOperand["load"];
  readonly flat?: string;
  /** Rows in groups (`RowGroups`, `perTile` groups a tile): tile row o is row o / 16 mod group of group (o mod 16) + 16 · (o / 16 / group). */
  readonly groups?: RowGroups & { readonly perTile: number };
}

/**
 * The loop loading one operand's `tile` × BK tile at k0 into workgroup array
 * `dst` (element (o, kk) at `kk · row + o`), zeros past the operand's edges.
 * A vec4 load reads four elements along the unit-stride axis, whose size is
 * then a multiple of 4, so a vector lies wholly inside or wholly outside.
 */
function stage(src: string, dst: string, s: Staging, tile: number, k: number, row: number): string[] {
  const w = s.vec ? 4 : 1;
  const lines = [`  for (var e = t; e < ${u32Lit((tile * BK) / w)}; e += ${u32Lit(SIDE * SIDE)}) {`];
  if (s.alongK) lines.push(`    let o = e / ${u32Lit(BK / w)};`, `    let kk = (e % ${u32Lit(BK / w)})${s.vec ? " * 4u" : ""};`);
  else lines.push(`    let kk = e / ${u32Lit(tile / w)};`, `    let o = (e % ${u32Lit(tile / w)})${s.vec ? " * 4u" : ""};`);
  if (s.groups === undefined) lines.push(`    let go = ${s.origin} + o;`, "    let gk = k0 + kk;");
  else {
    const g = s.groups;
    lines.push(
      `    let wv = wg.y * ${u32Lit(g.perTile)} + o % ${u32Lit(SIDE)} + ${u32Lit(SIDE)} * (o / ${u32Lit(SIDE * g.group)});`,
      `    let ev = (o / ${u32Lit(SIDE)}) % ${u32Lit(g.group)};`,
      ...g.row("wv", "ev").map((l) => `    ${l}`),
      "    let go = rr;",
      "    let gk = k0 + kk;",
    );
  }
  const at = `${s.base} + go * ${u32Lit(s.ostride)} + gk * ${u32Lit(s.kstride)}`;
  const inside = s.groups === undefined ? `go < ${u32Lit(s.outer)} && gk < ${u32Lit(k)}` : `wv < ${u32Lit(s.groups.windows)} && gk < ${u32Lit(k)}`;
  if (s.load !== undefined) {
    // Read in place through its windows (an implicit GEMM): no copy of the operand is made.
    const { lines: code, value } = s.load("fo");
    lines.push("    var v = 0.0f;", `    if (${inside}) {`, `      let fo = ${s.flat!};`, ...code.map((l) => `      ${l}`), `      v = ${value};`, "    }", `    ${dst}[kk * ${u32Lit(row)} + o] = v;`);
  } else if (!s.vec) {
    lines.push("    var v = 0.0f;", `    if (${inside}) { v = ${src}[${at}]; }`, `    ${dst}[kk * ${u32Lit(row)} + o] = v;`);
  } else {
    lines.push("    var v = vec4<f32>();", `    if (${inside}) { v = ${src}[(${at}) / 4u]; }`);
    for (let c = 0; c < 4; c++) {
      const place = s.alongK ? `(kk + ${u32Lit(c)}) * ${u32Lit(row)} + o` : `kk * ${u32Lit(row)} + o + ${u32Lit(c)}`;
      lines.push(`    ${dst}[${place}] = v[${c}];`);
    }
  }
  lines.push("  }");
  return lines;
}

/**
 * Whether an operand's vec4 loads along its unit-stride axis (of `size`
 * elements; `other`: the stride of the tile's other axis) stay aligned: the
 * axis's size, its base, the other stride and every batch stride are
 * multiples of 4, and the bound buffer holds whole vectors.
 */
function aligned(x: MatmulOperand, batch: readonly number[], size: number, unit: number, other: number): boolean {
  return x.load === undefined && unit === 1 && size % 4 === 0 && x.base % 4 === 0 && other % 4 === 0 && batch.every((s) => s % 4 === 0) && x.elements % 4 === 0;
}

/** One invocation per output element: `i` is the flat output index, set by the caller's `main`. */
function plain(a: MatmulOperand, b: MatmulOperand, out: Shape, as: readonly number[], bs: readonly number[], epilogue: string): { body: string; header: string; workgroups: [number, number, number] } {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const [sar, sak] = a.strides.slice(-2) as [number, number];
  const [sbk, sbn] = b.strides.slice(-2) as [number, number];
  const batch = out.slice(0, -2);
  const lines = [
    `let z = i / ${u32Lit(Math.max(m * n, 1))};`,
    `let row = (i / ${u32Lit(Math.max(n, 1))}) % ${u32Lit(Math.max(m, 1))};`,
    `let col = i % ${u32Lit(Math.max(n, 1))};`,
    ...batchCoords(batch, "z"),
    `let a0 = ${batchSum(a.base, as)} + row * ${u32Lit(sar)};`,
    `let b0 = ${batchSum(b.base, bs)} + col * ${u32Lit(sbn)};`,
    "var acc = 0.0f;",
    `for (var p = 0u; p < ${u32Lit(k)}; p++) {`,
    ...plainRead(a, "ea", `a0 + p * ${u32Lit(sak)}`, `(z * ${u32Lit(m)} + row) * ${u32Lit(k)} + p`),
    ...plainRead(b, "eb", `b0 + p * ${u32Lit(sbk)}`, `(z * ${u32Lit(k)} + p) * ${u32Lit(n)} + col`),
    "  acc = acc + ea * eb;",
    "}",
    "let mm = acc;",
    epilogue,
  ];
  return { header: "", body: lines.join("\n"), workgroups: [0, 0, 0] };
}

/** Statements binding `name` to an operand's element in the plain shader: at `at` of its binding, or evaluated at flat index `flat`. */
function plainRead(x: MatmulOperand, name: string, at: string, flat: string): string[] {
  if (x.load === undefined) return [`  let ${name} = in${x.binding}[${at}];`];
  const { lines, value } = x.load(`f${name}`);
  return [`  let f${name} = ${flat};`, ...lines.map((l) => `  ${l}`), `  let ${name} = ${value};`];
}

/** An operand's strides along the broadcast batch axes (0 where it repeats or lacks the axis). */
export function batchStrides(x: MatmulOperand, batch: Shape): number[] {
  const own = x.shape.slice(0, -2);
  const lead = batch.length - own.length;
  return batch.map((_, a) => (a < lead || own[a - lead] === 1 ? 0 : x.strides[a - lead]!));
}

/** Statements splitting the flat batch index `z` into coordinates `z0`, `z1`, … */
export function batchCoords(batch: Shape, z: string): string[] {
  const strides = stridesOf(batch);
  return batch.map((d, a) => `let ${z}${a} = (${z} / ${u32Lit(strides[a]!)}) % ${u32Lit(Math.max(d, 1))};`);
}

/** base + Σ z_a · strides_a as a u32 expression. */
export function batchSum(base: number, strides: readonly number[]): string {
  const terms = [u32Lit(base), ...strides.flatMap((s, a) => (s === 0 ? [] : [`z${a} * ${u32Lit(s)}`]))];
  return terms.join(" + ");
}
