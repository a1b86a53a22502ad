/**
 * The functions of a `matmul` (or `conv`) kernel: C = A · B for each matrix
 * of the batch, A and B read through their views (a transpose, a broadcast
 * weight, the windows of an image: an implicit GEMM), then the kernel's
 * elementwise epilogue.
 *
 * The product is cut into blocks of C of equal size (at most MC rows × NC
 * columns of one matrix, `evenBlock`); each block is a position of the
 * kernel's range, so threads take whole blocks, and equal numbers of them
 * are equal work. A thread's blocks of the same columns run together (a
 * run of at most RUN): k in slices of at most KC (equal slices, so the last
 * is not a sliver), each slice of B (kc × nc, strips of 8 columns) packed
 * once into the thread's scratch, then for each block of the run its slice
 * of A (mc × kc, strips of 4 rows), the shared macro kernel
 * (`macro-kernel.ts`) adding their product into C. Packing reads each
 * element through the operand's view once; where k is consecutive in
 * memory, four k at a time through 4×4 register transposes. After the last
 * slice the epilogue (`emitEpilogue`) runs on each block of the run while
 * it is in cache. Where all of B's slices for a block's columns fit the
 * packed-B scratch (k × nc ≤ KC × NC: a convolution's filters), they are
 * packed side by side once and reused by the following runs of the same
 * columns.
 *
 * Every element of C is summed in the same order of k however the blocks are
 * shared among threads, so results do not depend on how many run.
 *
 * Functions, in module order from `base`: packA, packB, the epilogue (when
 * the kernel has one), and the driver `(start, end, in₀ …, out₀ …, scratch)`.
 */
import { sizeOf } from "../../../ir/shape.js";
import type { Anatomy } from "../../../kernel/anatomy.js";
import type { Kernel } from "../../../kernel/graph.js";
import { coefficientOf, constant, coord, isAffine, type Expr } from "../../../kernel/index-expr.js";
import { readAt, type Read } from "../../../kernel/reads.js";
import { VIEWS } from "../../../kernel/anatomy.js";
import { Code, I32, V128 } from "../wasm.js";
import { LoopCode } from "./loop-code.js";
import { MR, NR } from "./macro-kernel.js";
import { emitEpilogue, type ModuleRefs, type Typed } from "./space-kernel.js";
import { transpose4 } from "./transpose4.js";
import { sliceBoundsTable, windowPacker } from "./window-pack.js";
import { windowPlan, type WindowPlan } from "./window-plan.js";

/** Rows of a block of C. */
export const MC = 64;
/** Columns of a block of C. */
export const NC = 256;
/** The most k of one slice. */
export const KC = 256;
/** The most blocks of one column range that share each packed slice of B (RUN · MC · NC · 4 bytes of C: 256 KiB). */
const RUN = 4;

/** Bytes of scratch one thread needs for any matmul: packed A and B slices and an edge tile. */
export const MATMUL_SCRATCH_BYTES = (MC * KC + KC * NC + MR * NR) * 4;

/** A matmul kernel's functions and how to run its driver. */
export interface MatmulFunctions {
  readonly functions: readonly { readonly name: string; readonly code: Code }[];
  /** Blocks of C: the driver's range. */
  readonly range: number;
  /** Multiply-adds per block, to judge whether splitting pays. */
  readonly work: number;
  readonly account: string;
}

/** The sizes of a matmul kernel's product: its batch shape and its matrices' rows and columns. */
function productSizes(anatomy: Anatomy): { batch: number[]; m: number; n: number } {
  const d = anatomy.domain;
  return { batch: d.slice(0, -2) as number[], m: d[d.length - 2]!, n: d[d.length - 1]! };
}

/**
 * The functions of matmul kernel `k`, the first at function index `base`;
 * `macro` is the module's macro kernel. With `table` (which places constant
 * i32 data in the memory and returns its byte address), an operand that
 * reads an image's windows (in a `conv` kernel) is packed from the image in
 * place (`window-pack.ts`). `byRows` numbers the driver's blocks by rows of C
 * first (`driverCode`), for a caller that takes them by rows.
 */
export function emitMatmulKernel(k: Kernel, anatomy: Anatomy, inputs: readonly Typed[], refs: ModuleRefs, base: number, macro: number, table?: (data: Int32Array) => number, byRows = false, fused?: FusedEpilogue): MatmulFunctions {
  const mm = k.ops[anatomy.matmul]!;
  const { batch, m, n } = productSizes(anatomy);
  const argShape = (a: number) => {
    const x = mm.args[a]!;
    return "input" in x ? inputs[x.input]!.shape : k.ops[x.op]!.shape;
  };
  const aShape = argShape(0);
  const kk = aShape[aShape.length - 1]!;
  const nb = batch.length;
  // Loop coordinates of the packers: batch axes, then i, j, p.
  const bounds = [...batch, m, n, Math.max(kk, 1)];
  const [I, J, P] = [coord(nb), coord(nb + 1), coord(nb + 2)];
  const aligned = (shape: readonly number[]): Expr[] => {
    const own = shape.slice(0, -2);
    return own.map((d, t) => (d === 1 ? constant(0) : coord(nb - own.length + t)));
  };
  const follow = (p: number): boolean => VIEWS.has(k.ops[p]!.op);
  const inShapes = inputs.map((i) => i.shape);
  const readA = readAt(k, mm.args[0]!, [...aligned(aShape), I, P], bounds, inShapes, follow);
  const readB = readAt(k, mm.args[1]!, [...aligned(argShape(1)), P, J], bounds, inShapes, follow);
  const dtypes = inputs.map((i) => i.dtype);
  const windows = (read: Read, which: "A" | "B"): WindowPlan | undefined => {
    // Only a convolution's (the planner's `conv`: a matmul reading windows); for other gathered operands (heads
    // split by reshapes) resolving the read once per row of the table costs more compile time than it saves.
    if (table === undefined || k.kind !== "conv" || nb > 0 || (read.kind === "load" && isAffine(read.offset))) return undefined;
    return windowPlan(k, mm.args[which === "A" ? 0 : 1]!, which, which === "A" ? m : n, Math.max(kk, 1), inShapes, (i) => dtypes[i] === "f32", follow);
  };
  const [windowsA, windowsB] = [windows(readA, "A"), windows(readB, "B")];
  const windowPack = (w: WindowPlan, which: "A" | "B"): Code => {
    const at = table!(w.table);
    // Over k, the driver's slices of k: per slice the bounds its guards hold within, for strips that need none.
    const bounds = w.side === "p" && w.guards.length > 0 && kk > 0 ? { sliceK: sliceOf(kk), at: table!(sliceBoundsTable(w, kk, sliceOf(kk))) } : undefined;
    return windowPacker(w, which, at, inputs.length, bounds);
  };
  const packA = windowsA !== undefined ? windowPack(windowsA, "A") : packer(readA, dtypes as ("f32" | "i32")[], batch, "A");
  const packB = windowsB !== undefined ? windowPack(windowsB, "B") : packer(readB, dtypes as ("f32" | "i32")[], batch, "B");
  const epilogue = fused !== undefined || anatomy.matmul !== k.ops.length - 1;
  const functions = [
    { name: `k${k.id}_packA`, code: packA },
    { name: `k${k.id}_packB`, code: packB },
    ...(epilogue ? [{ name: `k${k.id}_epilogue`, code: fused?.code ?? emitEpilogue(k, anatomy, inputs, refs) }] : []),
  ];
  const outputs = [k.ops.length - 1, ...(k.extraOutputs ?? []).map((e) => e.op)];
  // The product lives in the matmul's own output where it is one, else in the kernel's result (the epilogue runs in place).
  const productOut = fused !== undefined ? 0 : Math.max(0, outputs.indexOf(anatomy.matmul));
  // Blocks of equal size, so that threads taking equal numbers of blocks get equal work (784 columns: 4 × 200,
  // not 3 × 256 + 16); by rows, the caller's units are blocks of MC rows.
  const sizes = { mc: fused?.rows ?? (byRows ? MC : evenBlock(m, MC, MR)), nc: byRows ? NC : evenBlock(n, NC, NR) };
  const [allInputs, allOutputs] = fused !== undefined ? [inputs.length + fused.inputs, 1 + fused.outputs] : [inputs.length, outputs.length];
  const driver = driverCode({ batch, m, n, kk, inputs: allInputs, packed: inputs.length, outputs: allOutputs, productOut, packA: base, packB: base + 1, epilogue: epilogue ? base + 2 : -1, macro, runs: !byRows, ...sizes });
  functions.push({ name: `k${k.id}`, code: driver });
  const blocks = sizeOf(batch) * Math.ceil(m / sizes.mc) * Math.ceil(n / sizes.nc);
  const kinds = (r: Read, w: WindowPlan | undefined): string =>
    w !== undefined ? `read in place through a table of ${w.table.length / (1 + 2 * w.guards.length)} rows over ${w.side === "p" ? "k" : "its rows"} (${w.guards.length} guards)` : r.kind === "load" && isAffine(r.offset) ? "strided" : "gathered";
  const account = `matmul: ${sizeOf(batch)} × [${m}, ${kk}] · [${kk}, ${n}], A ${kinds(readA, windowsA)}, B ${kinds(readB, windowsB)}, blocks ${sizes.mc}×${sizes.nc}, k slices ≤ ${KC}, ${MR}×${NR} tiles${fused !== undefined ? `, ${fused.account} per block` : epilogue ? ", epilogue per block" : ""}`;
  return { functions, range: blocks, work: Math.min(sizes.mc, m) * Math.min(sizes.nc, n) * Math.max(kk, 1), account };
}

/**
 * An epilogue given by the caller instead of the kernel's own (a convolution
 * with its pool, `conv-pool-kernel.ts`): its code, called as the kernel's
 * own is, with `inputs` more inputs after the kernel's and `outputs` more
 * outputs after the product, on blocks of `rows` rows.
 */
export interface FusedEpilogue {
  readonly code: Code;
  readonly rows: number;
  readonly inputs: number;
  readonly outputs: number;
  readonly account: string;
}

interface DriverPlan {
  readonly batch: readonly number[];
  readonly m: number;
  readonly n: number;
  readonly kk: number;
  readonly inputs: number;
  /** The first inputs, which the packers read. */
  readonly packed: number;
  readonly outputs: number;
  readonly productOut: number;
  readonly packA: number;
  readonly packB: number;
  readonly epilogue: number;
  readonly macro: number;
  /** Blocks numbered by columns first, in runs that share B's slices (else by rows first, one by one). */
  readonly runs: boolean;
  /** Rows and columns of a block (at most MC and NC). */
  readonly mc: number;
  readonly nc: number;
}

/** The k of each slice (the last may be shorter): as few slices of at most KC as cover k, of equal size, so the last is no sliver. */
function sliceOf(kk: number): number {
  return Math.ceil(kk / Math.max(1, Math.ceil(kk / KC)));
}

/** The side of equal blocks (a multiple of `step`, at most `most`) that cut `size` into as few as blocks of `most` would. */
function evenBlock(size: number, most: number, step: number): number {
  const count = Math.max(1, Math.ceil(size / most));
  return Math.min(most, Math.ceil(Math.ceil(size / count) / step) * step);
}

/**
 * `(start, end, in…, out…, scratch)`: blocks start ‥ end − 1 of C. With
 * `runs` they are numbered u = (b · nBlocks + jb) · mBlocks + ib, so that a
 * thread's blocks come in runs of the same columns. A run (at most RUN
 * blocks, so that its part of C stays in L2) shares each k slice of B: the
 * slice is packed once and every block of the run adds its product with it
 * before the next slice (the BLIS loop order); the epilogue then runs on
 * each block of the run. Without `runs` (a caller that takes blocks by rows
 * of C: the attention kernel's units) they are numbered
 * u = (b · mBlocks + ib) · nBlocks + jb, one block per run.
 */
function driverCode(d: DriverPlan): Code {
  const f = new Code(new Array(2 + d.inputs + d.outputs + 1).fill(I32));
  const inAt = (i: number) => 2 + i;
  const outAt = (o: number) => 2 + d.inputs + o;
  const scratch = 2 + d.inputs + d.outputs;
  const c = outAt(d.productOut);
  const [u, b, i0, j0, mc, nc, p0, kc, block, packedB, tile, v, runEnd, ib0] = Array.from({ length: 14 }, () => f.local(I32));
  const [MCd, NCd] = [d.mc, d.nc];
  const mBlocks = Math.ceil(d.m / MCd);
  const nBlocks = Math.ceil(d.n / NCd);
  const sliceK = sliceOf(d.kk);
  const panel = d.kk * Math.ceil(Math.min(NCd, d.n) / NR) * NR <= KC * NC;
  const [key, held, padded, sliceB] = Array.from({ length: 4 }, () => f.local(I32));
  f.local_get(scratch).i32_const(MC * KC * 4).i32_add().local_set(packedB);
  f.local_get(packedB).i32_const(KC * NC * 4).i32_add().local_set(tile);
  /** Block v's first row i0, its rows mc and its byte address in C (b, j0 set). */
  const locate = () => {
    f.local_get(ib0).local_get(v).i32_add().local_get(u).i32_sub().i32_const(MCd).i32_mul().local_set(i0);
    f.i32_const(d.m).local_get(i0).i32_sub().local_tee(mc).i32_const(MCd).local_get(mc).i32_const(MCd).i32_lt_u().select().local_set(mc);
    // block = c + ((b·m + i0)·n + j0)·4
    f.local_get(b).i32_const(d.m).i32_mul().local_get(i0).i32_add().i32_const(d.n).i32_mul().local_get(j0).i32_add().i32_const(4).i32_mul().local_get(c).i32_add().local_set(block);
  };
  /** `body` for each block v of the run u ‥ runEnd − 1, located. */
  const eachBlock = (body: () => void) => {
    f.local_get(u).local_set(v);
    f.block(() =>
      f.loop(() => {
        f.local_get(v).local_get(runEnd).i32_ge_u().br_if(1);
        locate();
        body();
        f.local_get(v).i32_const(1).i32_add().local_set(v);
        f.br(0);
      }),
    );
  };
  f.local_get(0).local_set(u);
  f.block(() =>
    f.loop(() => {
      f.local_get(u).local_get(1).i32_ge_u().br_if(1);
      f.local_get(u).i32_const(mBlocks * nBlocks).i32_div_u().local_set(b);
      if (d.runs) {
        // u = (b · nBlocks + jb) · mBlocks + ib; the run ends at the range's end, the column's last block or RUN blocks.
        f.local_get(u).i32_const(mBlocks).i32_div_u().i32_const(nBlocks).i32_rem_u().i32_const(NCd).i32_mul().local_set(j0);
        f.local_get(u).i32_const(mBlocks).i32_rem_u().local_set(ib0);
        f.local_get(u).i32_const(RUN).i32_add().local_tee(runEnd);
        f.local_get(u).local_get(ib0).i32_sub().i32_const(mBlocks).i32_add().local_tee(v);
        f.local_get(runEnd).local_get(v).i32_lt_u().select().local_set(runEnd);
        f.local_get(runEnd).local_get(1).local_get(runEnd).local_get(1).i32_lt_u().select().local_set(runEnd);
      } else {
        // u = (b · mBlocks + ib) · nBlocks + jb, one block per run.
        f.local_get(u).i32_const(nBlocks).i32_rem_u().i32_const(NCd).i32_mul().local_set(j0);
        f.local_get(u).i32_const(nBlocks).i32_div_u().i32_const(mBlocks).i32_rem_u().local_set(ib0);
        f.local_get(u).i32_const(1).i32_add().local_set(runEnd);
      }
      f.i32_const(d.n).local_get(j0).i32_sub().local_tee(nc).i32_const(NCd).local_get(nc).i32_const(NCd).i32_lt_u().select().local_set(nc);
      if (d.kk === 0) {
        // An empty sum: zeros.
        eachBlock(() => zeroBlock(f, block, mc, nc, d.n));
      } else {
        f.i32_const(0).local_set(p0);
        // Where B's whole panel (every k slice of the block's columns) fits the packed-B scratch, the slices lie
        // side by side and stay packed for the next run of the same columns (a convolution: thousands of rows
        // of image windows, a few dozen filters): B is packed once per call rather than once per run of rows.
        if (panel) {
          f.local_get(b).i32_const(nBlocks).i32_mul().local_get(j0).i32_const(NCd).i32_div_u().i32_add().i32_const(1).i32_add().local_set(key);
          // padded = ⌈nc / NR⌉ · NR · 4 bytes per k.
          f.local_get(nc).i32_const(NR - 1).i32_add().i32_const(-NR).i32_and().i32_const(4).i32_mul().local_set(padded);
        }
        f.loop(() => {
          f.i32_const(d.kk).local_get(p0).i32_sub().local_tee(kc).i32_const(sliceK).local_get(kc).i32_const(sliceK).i32_lt_u().select().local_set(kc);
          if (panel) f.local_get(p0).local_get(padded).i32_mul().local_get(packedB).i32_add().local_set(sliceB);
          else f.local_get(packedB).local_set(sliceB);
          // packB(b, p0, kc, j0, nc, dst, in…); packA(b, i0, mc, p0, kc, dst, in…)
          const packB = () => {
            f.local_get(b).local_get(p0).local_get(kc).local_get(j0).local_get(nc).local_get(sliceB);
            for (let i = 0; i < d.packed; i++) f.local_get(inAt(i));
            f.call(d.packB);
          };
          if (panel) {
            f.local_get(key).local_get(held).i32_ne();
            f.if(packB);
          } else packB();
          eachBlock(() => {
            f.local_get(b).local_get(i0).local_get(mc).local_get(p0).local_get(kc).local_get(scratch);
            for (let i = 0; i < d.packed; i++) f.local_get(inAt(i));
            f.call(d.packA);
            // macro(a, b, c, mc, nc, kc, ldc, accumulate, tile)
            f.local_get(scratch).local_get(sliceB).local_get(block).local_get(mc).local_get(nc).local_get(kc).i32_const(d.n).local_get(p0).i32_const(0).i32_ne().local_get(tile).call(d.macro);
          });
          f.local_get(p0).local_get(kc).i32_add().local_tee(p0).i32_const(d.kk).i32_lt_u().br_if(0);
        });
        if (panel) f.local_get(key).local_set(held);
      }
      if (d.epilogue >= 0) {
        eachBlock(() => {
          // epilogue(b, i0, i1, j0, j1, c, in…, out…)
          f.local_get(b).local_get(i0).local_get(i0).local_get(mc).i32_add().local_get(j0).local_get(j0).local_get(nc).i32_add().local_get(c);
          for (let i = 0; i < d.inputs; i++) f.local_get(inAt(i));
          for (let o = 0; o < d.outputs; o++) f.local_get(outAt(o));
          f.call(d.epilogue);
        });
      }
      f.local_get(runEnd).local_set(u);
      f.br(0);
    }),
  );
  return f;
}

/** Writes zeros to a block of C: mc rows of nc elements from byte address `block`, rows ldc elements apart. */
function zeroBlock(f: Code, block: number, mc: number, nc: number, ldc: number): void {
  const [r, col] = [f.local(I32), f.local(I32)];
  f.i32_const(0).local_set(r);
  f.block(() =>
    f.loop(() => {
      f.local_get(r).local_get(mc).i32_ge_u().br_if(1);
      f.i32_const(0).local_set(col);
      f.block(() =>
        f.loop(() => {
          f.local_get(col).local_get(nc).i32_ge_u().br_if(1);
          f.local_get(r).i32_const(ldc).i32_mul().local_get(col).i32_add().i32_const(4).i32_mul().local_get(block).i32_add().f32_const(0).f32_store();
          f.local_get(col).i32_const(1).i32_add().local_set(col);
          f.br(0);
        }),
      );
      f.local_get(r).i32_const(1).i32_add().local_set(r);
      f.br(0);
    }),
  );
}

/**
 * A packer: `packA(b, i0, mc, p0, kc, dst, in…)` writes rows i0 ‥ i0+mc−1,
 * k p0 ‥ p0+kc−1 of A in strips of 4 rows, each [kc][4], zeros past A's
 * last row; `packB(b, p0, kc, j0, nc, dst, in…)` columns j0 ‥ j0+nc−1 of B
 * in strips of 8, each [kc][8], zeros past B's last column. Elements are
 * read through `read` (at coordinates: batch axes, i, j, p); a strided read
 * steps one pointer per row (column) of the strip, loading neighbours as one
 * vector where they are contiguous; anything else (pads, concats: the windows
 * of a convolution) is computed element by element.
 */
function packer(read: Read, dtypes: readonly ("f32" | "i32")[], batch: readonly number[], which: "A" | "B"): Code {
  const nb = batch.length;
  const f = new Code(new Array(6 + dtypes.length).fill(I32));
  const [bParam, outer0, outerCount, p0, kc, dst] = which === "A" ? [0, 1, 2, 3, 4, 5] : [0, 3, 4, 1, 2, 5];
  const coords = Array.from({ length: nb + 3 }, () => f.local(I32));
  const writer = new PackCode(f, dtypes, dtypes.map((_, i) => 6 + i), coords);
  const x: Strip = {
    s: f.local(I32),
    p: f.local(I32),
    v: f.local(V128),
    at: f.local(I32),
    p0,
    kc,
    outer0,
    outerCount,
    outerAxis: which === "A" ? nb : nb + 1,
    width: which === "A" ? MR : NR,
  };
  // Batch coordinates of matrix b.
  let stride = batch.reduce((a, d) => a * d, 1);
  batch.forEach((dim, t) => {
    stride /= dim;
    f.local_get(bParam);
    if (stride > 1) f.i32_const(stride).i32_div_u();
    if (t > 0) f.i32_const(dim).i32_rem_u();
    f.local_set(coords[t]!);
  });
  f.local_get(dst).local_set(x.at);
  f.i32_const(0).local_set(x.s);
  f.block(() =>
    f.loop(() => {
      f.local_get(x.s).local_get(outerCount).i32_ge_u().br_if(1);
      if (read.kind === "load" && isAffine(read.offset)) writer.stripStrided(read, x);
      else writer.stripGeneral(read, x);
      f.local_get(x.s).i32_const(x.width).i32_add().local_set(x.s);
      f.br(0);
    }),
  );
  return f;
}

interface Strip {
  readonly s: number;
  readonly p: number;
  readonly v: number;
  readonly at: number;
  readonly p0: number;
  readonly kc: number;
  readonly outer0: number;
  readonly outerCount: number;
  readonly outerAxis: number;
  readonly width: number;
}

/** The packers' element reads, on the loop-code machinery. */
class PackCode extends LoopCode {
  constructor(f: Code, dtypes: readonly ("f32" | "i32")[], inAddr: readonly number[], coords: number[]) {
    super(f, dtypes, inAddr, coords, -1);
  }

  /** One strip, element by element: for each k, `width` values (zero past the matrix edge). */
  stripGeneral(read: Read, x: Strip): void {
    const f = this.f;
    const pAxis = this.coord.length - 1;
    const vectors = x.width / 4;
    f.i32_const(0).local_set(x.p);
    f.block(() =>
      f.loop(() => {
        f.local_get(x.p).local_get(x.kc).i32_ge_u().br_if(1);
        f.local_get(x.p0).local_get(x.p).i32_add().local_set(this.coord[pAxis]!);
        for (let vec = 0; vec < vectors; vec++) {
          f.v128_zero().local_set(x.v);
          for (let lane = 0; lane < 4; lane++) {
            const w = vec * 4 + lane;
            // The row (or column) of this lane, if inside the matrix.
            f.local_get(x.s).i32_const(w).i32_add().local_get(x.outerCount).i32_lt_u();
            f.if(() => {
              f.local_get(x.outer0).local_get(x.s).i32_add().i32_const(w).i32_add().local_set(this.coord[x.outerAxis]!);
              f.local_get(x.v);
              this.scalar(read, "f32", 0, 4);
              f.f32x4_replace_lane(lane).local_set(x.v);
            });
          }
          f.local_get(x.at).local_get(x.v).v128_store(16 * vec);
        }
        f.local_get(x.at).i32_const(x.width * 4).i32_add().local_set(x.at);
        f.local_get(x.p).i32_const(1).i32_add().local_set(x.p);
        f.br(0);
      }),
    );
  }

  /**
   * One strip of a strided operand: a pointer per row (column) of the strip,
   * stepped along k; neighbours in memory are loaded as one vector. Lanes
   * past the matrix edge read its last row (column) and are zeroed.
   */
  stripStrided(read: Read & { kind: "load" }, x: Strip): void {
    const f = this.f;
    const pAxis = this.coord.length - 1;
    const stepP = coefficientOf(read.offset, pAxis);
    const stepOuter = coefficientOf(read.offset, x.outerAxis);
    const ptr = Array.from({ length: x.width }, () => f.local(I32));
    const [whole, mask0, mask1] = [f.local(I32), f.local(V128), f.local(V128)];
    const masks = [mask0, mask1];
    f.local_get(x.s).i32_const(x.width).i32_add().local_get(x.outerCount).i32_le_u().local_set(whole);
    f.local_get(x.p0).local_set(this.coord[pAxis]!);
    for (let w = 0; w < x.width; w++) {
      // Lane w's row (column), clamped inside the matrix: outer0 + min(s + w, count − 1).
      f.local_get(x.outer0);
      f.local_get(x.s).i32_const(w).i32_add();
      f.local_get(x.outerCount).i32_const(1).i32_sub();
      f.local_get(x.s).i32_const(w).i32_add().local_get(x.outerCount).i32_lt_u().select();
      f.i32_add().local_set(this.coord[x.outerAxis]!);
      this.address(this.inAddr[read.input]!, read.offset);
      f.local_set(ptr[w]!);
    }
    for (let vec = 0; vec < x.width / 4; vec++) {
      // Mask: all ones for lanes inside the matrix.
      f.v128_const_i32([0, 1, 2, 3].map((l) => vec * 4 + l) as [number, number, number, number]);
      f.local_get(x.outerCount).local_get(x.s).i32_sub().i32x4_splat().i32x4_lt_s().local_set(masks[vec]!);
    }
    const contiguous = stepOuter === 1;
    f.i32_const(0).local_set(x.p);
    // Along k in memory (a row-major A, a transposed B): 4 k at a time, a vector per row (column) of the strip,
    // turned into a vector per k by 4×4 transposes in registers; the last kc mod 4 below, one k at a time.
    if (stepP === 1 && !contiguous) this.stripAlongK(x, ptr, masks);
    f.block(() =>
      f.loop(() => {
        f.local_get(x.p).local_get(x.kc).i32_ge_u().br_if(1);
        for (let vec = 0; vec < x.width / 4; vec++) {
          const loadLanes = () => {
            f.v128_zero();
            for (let lane = 0; lane < 4; lane++) f.local_get(ptr[vec * 4 + lane]!).f32_load().f32x4_replace_lane(lane);
          };
          if (contiguous) {
            f.local_get(whole);
            f.ifElseValue(V128, () => f.local_get(ptr[vec * 4]!).v128_load(), loadLanes);
          } else loadLanes();
          f.local_get(masks[vec]!).v128_and().local_set(x.v);
          f.local_get(x.at).local_get(x.v).v128_store(16 * vec);
        }
        for (const q of ptr) f.local_get(q).i32_const(4 * stepP).i32_add().local_set(q);
        f.local_get(x.at).i32_const(x.width * 4).i32_add().local_set(x.at);
        f.local_get(x.p).i32_const(1).i32_add().local_set(x.p);
        f.br(0);
      }),
    );
  }

  /**
   * The strip's k from x.p while 4 remain, where each row (column) of the
   * strip has consecutive k next to each other in memory: per lane a vector
   * of 4 k (from its pointer), then per group of 4 lanes a 4×4 transpose
   * (two rounds of shuffles) into a vector of 4 lanes per k, masked as the
   * one-k path masks it. Leaves x.p, x.at and the pointers past what it wrote.
   */
  private stripAlongK(x: Strip, ptr: readonly number[], masks: readonly number[]): void {
    const f = this.f;
    const [r0, r1, r2, r3, a0, a1, a2, a3] = Array.from({ length: 8 }, () => f.local(V128));
    const rows = [r0, r1, r2, r3];
    f.block(() =>
      f.loop(() => {
        f.local_get(x.p).i32_const(4).i32_add().local_get(x.kc).i32_gt_u().br_if(1);
        for (let vec = 0; vec < x.width / 4; vec++) {
          rows.forEach((r, lane) => f.local_get(ptr[vec * 4 + lane]!).v128_load().local_set(r));
          transpose4(f, rows, [a0, a1, a2, a3], (q, push) => {
            f.local_get(x.at);
            push();
            f.local_get(masks[vec]!).v128_and();
            f.v128_store(q * x.width * 4 + 16 * vec);
          });
        }
        for (const q of ptr) f.local_get(q).i32_const(16).i32_add().local_set(q);
        f.local_get(x.at).i32_const(4 * x.width * 4).i32_add().local_set(x.at);
        f.local_get(x.p).i32_const(4).i32_add().local_set(x.p);
        f.br(0);
      }),
    );
  }
}
