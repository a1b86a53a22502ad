/**
 * The renderer of a fused elementwise group (`fuse.ts`): one invocation per
 * output element evaluates the root's whole expression in registers, reading
 * only the group's inputs from memory, and writes the root's value and the
 * group's other values read elsewhere (`FusedGroup.outputs`). Views (`reshape`, `permute`,
 * `expand`, `slice`) become index arithmetic and `const` a literal. Every
 * intermediate is a `let`, computed once per index it is read at.
 */
import type { OpAttrs } from "../../ir/ops.js";
import { sizeOf, stridesOf } from "../../ir/shape.js";
import type { Kernel, KernelGraph } from "../../kernel/graph.js";
import { lit, u32Lit, type Helper } from "./wgsl-lib.js";
import { BINARY, HELPER_OF, UNARY_F32, UNARY_I32 } from "./wgsl-ops.js";

/** The body of a fused group's `main`: statements computing `out[i]` (and the extra outputs), and the helpers they call. */
export function fusedBody(
  graph: KernelGraph,
  kernels: readonly number[],
  inputs: readonly number[],
  outputs: readonly number[],
  /** Values already in a register at `i`, by name (a matmul's result, for its epilogue). */
  preset: ReadonlyMap<number, string> = new Map(),
): { body: string; used: Set<Helper> } {
  const { at, lines, used } = evaluator(graph, kernels, inputs, preset);
  // The root's value to `out`, other values written (of as many elements) to `out1`, `out2`, …
  outputs.forEach((v, j) => {
    const result = at(v, "i");
    lines.push(`out${j === 0 ? "" : j}[i] = ${result};`);
  });
  const body = lines.join("\n");
  if (body.includes("f32_bits(")) used.add("f32_bits");
  return { body, used };
}

/** Statements computing value `v` of a fused group at flat index `idx` (a name), the name holding it, and the helpers they call. */
export function fusedValue(graph: KernelGraph, kernels: readonly number[], inputs: readonly number[], v: number, idx: string): { lines: string[]; value: string; used: Set<Helper> } {
  const { at, lines, used } = evaluator(graph, kernels, inputs, new Map());
  const value = at(v, idx);
  if (lines.join("\n").includes("f32_bits(")) used.add("f32_bits");
  return { lines, value, used };
}

/**
 * Evaluates values of a fused group at indices, appending `let`s to `lines`.
 * `preset` values are in registers at index `presetIndex`; `everywhere`
 * values are one register at whatever index they are read (a row's maximum,
 * read through an expand along the row, by code that runs within one row).
 */
export function evaluator(
  graph: KernelGraph,
  kernels: readonly number[],
  inputs: readonly number[],
  preset: ReadonlyMap<number, string>,
  presetIndex = "i",
  everywhere: ReadonlyMap<number, string> = new Map(),
  /** Prefixes the names it binds, so that two evaluators' code may share a scope. */
  prefix = "",
): { at: (v: number, idx: string) => string; lines: string[]; used: Set<Helper> } {
  const inside = new Map<number, Kernel>(kernels.map((k) => [graph.kernels[k]!.output, graph.kernels[k]!]));
  const slot = new Map(inputs.map((v, j) => [v, j]));
  const lines: string[] = [];
  const memo = new Map<string, string>([...preset].map(([v, name]) => [`${v}@${presetIndex}`, name]));
  const used = new Set<Helper>();
  let fresh = 0;
  const bind = (expr: string): string => {
    const name = `${prefix}t${fresh++}`;
    lines.push(`let ${name} = ${expr};`);
    return name;
  };

  /** A name holding value `v` at flat index `idx` (a u32 expression that is a name or literal). */
  const at = (v: number, idx: string): string => {
    const key = `${v}@${idx}`;
    const known = everywhere.get(v) ?? memo.get(key);
    if (known !== undefined) return known;
    const k = inside.get(v);
    let name: string;
    if (k === undefined) {
      const j = slot.get(v);
      if (j === undefined) throw new Error(`webgpu: a fused group reads v${v}, which is not among its inputs`);
      name = bind(`in${j}[${idx}]`);
    } else {
      name = evaluate(k, idx);
    }
    memo.set(key, name);
    return name;
  };

  const evaluate = (k: Kernel, idx: string): string => {
    const op = k.ops[0]!;
    const operand = (n: number): TypeOf => graph.values[k.inputs[n]!]!;
    switch (op.op) {
      case "const":
        return bind(lit((op.attrs as OpAttrs["const"]).value, k.dtype));
      case "reshape":
        return at(k.inputs[0]!, idx);
      case "permute": {
        const strides = stridesOf(operand(0).shape);
        return at(k.inputs[0]!, index(k, (op.attrs as OpAttrs["permute"]).perm.map((p) => strides[p]!), 0, idx));
      }
      case "expand": {
        const x = operand(0);
        return at(k.inputs[0]!, index(k, stridesOf(x.shape).map((s, a) => (x.shape[a] === 1 ? 0 : s)), 0, idx));
      }
      case "slice": {
        const { starts, steps } = op.attrs as OpAttrs["slice"];
        const strides = stridesOf(operand(0).shape);
        const base = starts.reduce((sum, s, a) => sum + s * strides[a]!, 0);
        return at(k.inputs[0]!, index(k, strides.map((s, a) => s * steps[a]!), base, idx));
      }
      case "where": {
        const [c, a, b] = k.inputs.map((u) => at(u, idx)) as [string, string, string];
        return bind(`select(${b}, ${a}, ${c} != 0i)`);
      }
      case "pad": {
        // Output coordinate c reads input element (c − lo) / (g + 1) where c − lo is in range and, with interior
        // padding g, a multiple of g + 1 (a strided slice's gradient); else the pad value.
        const { lo, interior, value } = op.attrs as OpAttrs["pad"];
        const x = operand(0);
        const inStrides = stridesOf(x.shape);
        const outStrides = stridesOf(k.shape);
        const conditions: string[] = [];
        const terms: string[] = [];
        k.shape.forEach((d, a) => {
          const c = d === 1 ? "0i" : `i32((${idx} / ${u32Lit(outStrides[a]!)}) % ${u32Lit(d)})`;
          const step = interior[a]! + 1;
          const t = bind(`${c} - ${lit(lo[a]!, "i32")}`);
          const at0 = step === 1 ? t : bind(`${t} / ${lit(step, "i32")}`);
          conditions.push(step === 1 ? `${t} >= 0i && ${t} < ${lit(x.shape[a]!, "i32")}` : `${t} >= 0i && ${t} % ${lit(step, "i32")} == 0i && ${at0} < ${lit(x.shape[a]!, "i32")}`);
          if (x.shape[a]! > 1) terms.push(`u32(max(${at0}, 0i)) * ${u32Lit(inStrides[a]!)}`);
        });
        const ok = bind(conditions.join(" && "));
        const j = bind(`select(0u, ${terms.length === 0 ? "0u" : terms.join(" + ")}, ${ok})`);
        return bind(`select(${lit(value, k.dtype)}, ${at(k.inputs[0]!, j)}, ${ok})`);
      }
      case "concat": {
        const axis = (op.attrs as OpAttrs["concat"]).axis;
        const outStrides = stridesOf(k.shape);
        const coord = (a: number): string => (k.shape[a] === 1 ? "0u" : `((${idx} / ${u32Lit(outStrides[a]!)}) % ${u32Lit(k.shape[a]!)})`);
        const c = bind(coord(axis));
        // Windows of one value (a convolution's k² strided slices of its padded image): index arithmetic, no branch.
        const grid = windowGrid(k);
        if (grid !== null) {
          const { size, wide, levels, source } = grid;
          const n = size === 1 ? c : bind(`${c} / ${u32Lit(size)}`);
          const q = wide === grid.count ? "0u" : bind(`${n} / ${u32Lit(wide)}`);
          const r = wide === 1 ? "0u" : bind(`${n} % ${u32Lit(wide)}`);
          const x = operand(0);
          const strides = stridesOf(x.shape);
          const terms = x.shape.flatMap((d, a) => {
            if (d === 1) return [];
            const ca = a === axis ? `(${c} % ${u32Lit(size)})` : coord(a);
            return [`${ca} * ${u32Lit(strides[a]!)}`];
          });
          let j = bind(terms.length === 0 ? "0u" : terms.join(" + "));
          for (const level of levels) {
            if (level.kernel.ops[0]!.op === "reshape") continue;
            const { steps } = level.kernel.ops[0]!.attrs as OpAttrs["slice"];
            const inStrides = stridesOf(graph.values[level.kernel.inputs[0]!]!.shape);
            const inner = index(level.kernel, inStrides.map((st, a) => st * steps[a]!), level.base, j);
            // Steps may be negative (windows in descending order: a stride-1 convolution's image gradient); the
            // sum is an index ≥ 0 whichever order its terms come in, as u32 arithmetic wraps.
            const term = (v: string, per: number): string => (per === 0 || v === "0u" ? "" : `${per < 0 ? "-" : "+"} ${v} * ${u32Lit(Math.abs(per))}`);
            const shift = [term(q, level.perRow), term(r, level.perCol)].filter((t) => t !== "");
            j = shift.length === 0 ? inner : bind([inner, ...shift].join(" "));
          }
          return at(source, j);
        }
        // Otherwise only the operand whose range holds the coordinate is read: one branch per operand, each with
        // its own names (the memo is restored after a branch, as its lets end with its block).
        const result = `${prefix}t${fresh++}`;
        lines.push(`var ${result}: ${k.dtype};`);
        let start = 0;
        const parts = k.inputs.map((u, n) => [u, operand(n)] as const).filter(([, x]) => x.shape[axis]! > 0);
        parts.forEach(([u, x], n) => {
          const size = x.shape[axis]!;
          const strides = stridesOf(x.shape);
          const saved = new Map(memo);
          const from = lines.length;
          const terms = x.shape.flatMap((d, a) => {
            if (d === 1) return [];
            const ca = a === axis ? (start === 0 ? c : `(${c} - ${u32Lit(start)})`) : coord(a);
            return [`${ca} * ${u32Lit(strides[a]!)}`];
          });
          const value = at(u, bind(terms.length === 0 ? "0u" : terms.join(" + ")));
          const body = lines.splice(from);
          memo.clear();
          for (const [key, name] of saved) memo.set(key, name);
          start += size;
          const last = n === parts.length - 1;
          lines.push(`${n === 0 ? "" : "} else "}${last ? (n === 0 ? "{" : "{") : `if (${c} < ${u32Lit(start)}) {`}`.replace("} else {", "} else {"), ...body.map((l) => `  ${l}`), `  ${result} = ${value};`);
          if (last) lines.push("}");
        });
        return result;
      }
      case "uniform": {
        // As the uniform kernel draws element idx (wgsl-ops.ts), from scalar seed and step.
        used.add("philox");
        const [seed, step] = k.inputs.map((u) => at(u, "0u")) as [string, string];
        const stream = (op.attrs as OpAttrs["uniform"]).stream;
        const words = bind(`philox(vec4<u32>(${idx} / 4u, 0u, bitcast<u32>(${step}), 0u), vec2<u32>(bitcast<u32>(${seed}), ${u32Lit(stream)}))`);
        return bind(`f32(${words}[${idx} % 4u] >> 8u) * ${lit(2 ** -24, "f32")}`);
      }
      case "cast": {
        const x = at(k.inputs[0]!, idx);
        const from = operand(0).dtype;
        if (from === k.dtype) return x;
        if (k.dtype === "f32") return bind(`f32(${x})`);
        used.add("to_i32");
        return bind(`to_i32(${x})`);
      }
      default: {
        const t = operand(0).dtype;
        if (t === "f32" && HELPER_OF[op.op] !== undefined) used.add(HELPER_OF[op.op]!);
        if (k.inputs.length === 1) {
          const f = (t === "f32" ? UNARY_F32 : UNARY_I32)[op.op];
          if (f === undefined) throw new Error(`webgpu: op ${op.op} on ${t} is not supported`);
          return bind(f(at(k.inputs[0]!, idx)));
        }
        const f = BINARY[op.op];
        if (f === undefined) throw new Error(`webgpu: op ${String(op.op)} is not supported yet`);
        return bind(f(at(k.inputs[0]!, idx), at(k.inputs[1]!, idx), t));
      }
    }
  };

  /**
   * Whether concat `k` joins windows of one value: operands of one size along the axis, each a chain of
   * reshapes and slices inside the group (the same ops, shapes and steps) ending at one value, whose slice
   * starts are affine in the operand's row and column of a grid `wide` operands wide (a convolution's
   * kernel row and column, ascending; descending in its image gradient). Then each slice level's flat
   * start is `base + row · perRow + col · perCol`.
   */
  const windowGrid = (k: Kernel): { size: number; wide: number; count: number; source: number; levels: { kernel: Kernel; base: number; perRow: number; perCol: number }[] } | null => {
    const axis = (k.ops[0]!.attrs as OpAttrs["concat"]).axis;
    const count = k.inputs.length;
    if (count < 2) return null;
    const size = graph.values[k.inputs[0]!]!.shape[axis]!;
    const chains: Kernel[][] = [];
    const ends: number[] = [];
    for (const u of k.inputs) {
      if (graph.values[u]!.shape[axis] !== size) return null;
      const chain: Kernel[] = [];
      let v = u;
      for (let p = inside.get(v); p !== undefined && (p.ops[0]!.op === "reshape" || p.ops[0]!.op === "slice") && !preset.has(v) && !everywhere.has(v); p = inside.get(v)) {
        chain.push(p);
        v = p.inputs[0]!;
      }
      chains.push(chain);
      ends.push(v);
    }
    const first = chains[0]!;
    if (size === 0 || first.length === 0 || ends.some((e) => e !== ends[0]) || !first.some((p) => p.ops[0]!.op === "slice")) return null;
    const same = (a: Kernel, b: Kernel): boolean => {
      if (a.ops[0]!.op !== b.ops[0]!.op || a.shape.join() !== b.shape.join()) return false;
      if (a.ops[0]!.op === "reshape") return true;
      return (a.ops[0]!.attrs as OpAttrs["slice"]).steps.join() === (b.ops[0]!.attrs as OpAttrs["slice"]).steps.join();
    };
    if (chains.some((ch) => ch.length !== first.length || ch.some((p, l) => !same(p, first[l]!)))) return null;
    // The flat start of each slice level, per operand.
    const starts = chains.map((ch) =>
      ch.map((p) => {
        if (p.ops[0]!.op !== "slice") return 0;
        const st = stridesOf(graph.values[p.inputs[0]!]!.shape);
        return (p.ops[0]!.attrs as OpAttrs["slice"]).starts.reduce((sum, s0, a) => sum + s0 * st[a]!, 0);
      }),
    );
    for (let wide = 1; wide <= count; wide++) {
      const levels = first.map((kernel, l) => {
        const base = starts[0]![l]!;
        const perCol = wide > 1 ? starts[1]![l]! - base : 0;
        const perRow = wide < count ? starts[wide]![l]! - base : 0;
        return { kernel, base, perRow, perCol };
      });
      const fits = starts.every((row, n) => row.every((s0, l) => s0 === levels[l]!.base + Math.floor(n / wide) * levels[l]!.perRow + (n % wide) * levels[l]!.perCol));
      if (fits) return { size, wide, count, source: ends[0]!, levels };
    }
    return null;
  };

  /** Binds the index into kernel `k`'s operand: base + Σ c_a · strides_a over `k`'s coordinates of `idx`. */
  const index = (k: Kernel, strides: readonly number[], base: number, idx: string): string => {
    const outStrides = stridesOf(k.shape);
    const terms: string[] = [];
    k.shape.forEach((d, a) => {
      if (d === 1 || strides[a] === 0) return;
      const q = outStrides[a] === 1 ? idx : `(${idx} / ${u32Lit(outStrides[a]!)})`;
      const c = a === 0 || sizeOf(k.shape.slice(0, a)) === 1 ? q : `(${q} % ${u32Lit(d)})`;
      terms.push(strides[a] === 1 ? c : `${c} * ${u32Lit(strides[a]!)}`);
    });
    if (base !== 0 || terms.length === 0) terms.unshift(u32Lit(base));
    const expr = terms.join(" + ");
    if (expr === idx) return idx;
    if (/^\d+u$/.test(expr)) return expr;
    const name = `${prefix}j${fresh++}`;
    lines.push(`let ${name} = ${expr};`);
    return name;
  };

  return { at, lines, used };
}

type TypeOf = { readonly shape: readonly number[]; readonly dtype: "f32" | "i32" };
