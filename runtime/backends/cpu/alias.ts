/**
 * Reshapes as views.
 *
 * A reshape keeps every element where it is in row-major order, so its output
 * can be its operand's memory read under another shape, and the copy skipped.
 * The memory plan gave operand and output a buffer each, sharing those
 * buffers over time with other values; so values that are one another's
 * reshapes are grouped, a group lives from its first definition to its last
 * read, and two groups join only in a buffer (one of their two) that no other
 * value occupies during the joined lifetime. A group holding an input, a
 * param or an output is pinned to its dedicated buffer: those are fed or
 * returned there.
 *
 * When neither buffer is free for long enough (typically: the operand's
 * buffer is handed on right after the reshape, while the output lives on
 * until the backward pass), the group moves to a buffer added for such
 * groups, shared among them in the same way, as long as the added bytes stay
 * under half of the plan's.
 *
 * Lifetimes are closed intervals [definition, last read]: a kernel never
 * writes its output over an operand, as in the plan.
 */
import type { KernelGraph } from "../../kernel/graph.js";

/** Values that share storage: their lifetime and buffer, and whether that buffer is fixed. */
interface Group {
  first: number;
  last: number;
  buffer: number;
  readonly pinned: boolean;
}

/** The graph with the outputs of reshapes moved to share their operands' storage, and the reshapes to skip. */
export function aliasedReshapes(graph: KernelGraph): { graph: KernelGraph; skipped: ReadonlySet<number> } {
  const groupOf: Group[] = graph.values.map((v) => ({ first: v.def, last: v.lastUse, buffer: v.buffer, pinned: v.role !== "temp" }));
  // The groups occupying each buffer.
  const occupants = new Map<number, Set<Group>>();
  for (const g of groupOf) {
    const set = occupants.get(g.buffer) ?? new Set<Group>();
    set.add(g);
    occupants.set(g.buffer, set);
  }
  const free = (buffer: number, first: number, last: number, except: readonly Group[]): boolean => {
    for (const g of occupants.get(buffer)!) if (!except.includes(g) && g.first <= last && first <= g.last) return false;
    return true;
  };
  const skipped = new Set<number>();
  const buffers = [...graph.buffers];
  const added: number[] = [];
  let budget = graph.buffers.reduce((n, b) => n + b.bytes, 0) / 2;
  for (const k of graph.kernels) {
    if (k.ops.length !== 1 || k.ops[0]!.op !== "reshape" || k.inputs.length !== 1) continue;
    const [x, y] = [k.inputs[0]!, k.output];
    if (graph.values[x]!.dtype !== graph.values[y]!.dtype) continue;
    const [gx, gy] = [groupOf[x]!, groupOf[y]!];
    if (gx === gy || (gx.pinned && gy.pinned)) continue;
    const [first, last] = [Math.min(gx.first, gy.first), Math.max(gx.last, gy.last)];
    // Prefer the operand's buffer; a pinned group decides.
    const bytes = buffers[gx.buffer]!.bytes;
    const choices = gx.pinned ? [gx.buffer] : gy.pinned ? [gy.buffer] : [gx.buffer, gy.buffer, ...added.filter((b) => buffers[b]!.bytes === bytes)];
    let buffer = choices.find((b) => free(b, first, last, [gx, gy]));
    if (buffer === undefined && !gx.pinned && !gy.pinned && bytes <= budget && bytes === buffers[gy.buffer]!.bytes) {
      buffer = buffers.length;
      buffers.push({ id: buffer, bytes, role: "shared" });
      occupants.set(buffer, new Set());
      added.push(buffer);
      budget -= bytes;
    }
    if (buffer === undefined) continue;
    const joined: Group = { first, last, buffer, pinned: gx.pinned || gy.pinned };
    occupants.get(gx.buffer)!.delete(gx);
    occupants.get(gy.buffer)!.delete(gy);
    occupants.get(buffer)!.add(joined);
    for (let v = 0; v < groupOf.length; v++) if (groupOf[v] === gx || groupOf[v] === gy) groupOf[v] = joined;
    skipped.add(k.id);
  }
  if (skipped.size === 0) return { graph, skipped };
  return { graph: { ...graph, buffers, values: graph.values.map((v, i) => (groupOf[i]!.buffer === v.buffer ? v : { ...v, buffer: groupOf[i]!.buffer })) }, skipped };
}
