/**
 * The invariants of a kernel graph, checked before a backend trusts it (a
 * graph read from JSON may be anything): kernels in order, each reading only
 * values already written and still live; every value fitting its buffer; no
 * two values live at once in one buffer; inputs, params and outputs in
 * buffers of their own; outputs live to the end.
 */
import { kernelOutputs, type KernelGraph, type KernelValue } from "./graph.js";
import { valueBytes } from "./plan.js";

/** Every broken invariant of `g`, in words; empty when it is sound. */
export function kernelGraphProblems(g: KernelGraph): string[] {
  const problems: string[] = [];
  const end = g.kernels.length;
  const value = (id: number): KernelValue | undefined => (Number.isInteger(id) ? g.values[id] : undefined);
  g.values.forEach((v, i) => {
    if (v.id !== i) problems.push(`value at ${i} has id ${v.id}`);
    const buffer = g.buffers[v.buffer];
    if (buffer === undefined) problems.push(`v${v.id} is in a missing buffer b${v.buffer}`);
    else if (buffer.bytes < valueBytes(v)) problems.push(`v${v.id} (${valueBytes(v)} bytes) does not fit b${v.buffer} (${buffer.bytes})`);
    if (v.role === "input" || v.role === "param") {
      if (v.def !== -1) problems.push(`${v.role} v${v.id} says it is written by k${v.def}`);
    } else {
      const k = g.kernels[v.def];
      if (k === undefined || !kernelOutputs(k).includes(v.id)) problems.push(`v${v.id} is not written by k${v.def}`);
    }
  });
  g.buffers.forEach((b, i) => {
    if (b.id !== i) problems.push(`buffer at ${i} has id ${b.id}`);
  });
  g.kernels.forEach((k, i) => {
    if (k.id !== i) problems.push(`kernel at ${i} has id ${k.id}`);
    const out = value(k.output);
    if (out === undefined) problems.push(`k${k.id} writes a missing value v${k.output}`);
    else if (out.def !== k.id) problems.push(`k${k.id} writes v${out.id}, which says it is written by k${out.def}`);
    if (k.ops.length === 0) problems.push(`k${k.id} has no ops`);
    for (const e of k.extraOutputs ?? []) {
      const v = value(e.value);
      if (!(Number.isInteger(e.op) && e.op >= 0 && e.op < k.ops.length)) problems.push(`k${k.id} writes v${e.value} from a missing op ${e.op}`);
      else if (v === undefined) problems.push(`k${k.id} writes a missing value v${e.value}`);
      else if (v.def !== k.id) problems.push(`k${k.id} writes v${v.id}, which says it is written by k${v.def}`);
      else if (!sameType(v, k.ops[e.op]!)) problems.push(`k${k.id} writes op ${e.op} to v${v.id} of another type`);
    }
    k.ops.forEach((o, j) => {
      for (const a of o.args) {
        if ("input" in a ? !(a.input >= 0 && a.input < k.inputs.length) : !(a.op >= 0 && a.op < j)) {
          problems.push(`op ${j} of k${k.id} has a bad operand ${JSON.stringify(a)}`);
        }
      }
    });
    for (const id of k.inputs) {
      const v = value(id);
      if (v === undefined) problems.push(`k${k.id} reads a missing value v${id}`);
      else if (!(v.def < k.id && v.lastUse >= k.id)) problems.push(`k${k.id} reads v${id}, live only ${v.def}..${v.lastUse}`);
    }
  });
  // Tenants of each buffer, by start: each must end before the next starts.
  const tenants = new Map<number, KernelValue[]>();
  for (const v of g.values) {
    const list = tenants.get(v.buffer) ?? [];
    list.push(v);
    tenants.set(v.buffer, list);
  }
  for (const [b, list] of tenants) {
    const role = g.buffers[b]?.role;
    if (role !== "shared" && list.length > 1) problems.push(`${role} buffer b${b} holds ${list.length} values`);
    if (role === "shared" && list.some((v) => v.role !== "temp")) problems.push(`shared buffer b${b} holds an input, param or output`);
    list.sort((p, q) => p.def - q.def);
    for (let i = 1; i < list.length; i++) {
      const [p, q] = [list[i - 1]!, list[i]!];
      if (!(p.lastUse < q.def)) problems.push(`v${p.id} (${p.def}..${p.lastUse}) and v${q.id} (${q.def}..${q.lastUse}) are live together in b${b}`);
    }
  }
  for (const o of [...g.inputs, ...g.params, ...g.outputs]) {
    const v = value(o.value);
    if (v === undefined) problems.push(`${o.name} names a missing value v${o.value}`);
  }
  for (const o of g.outputs) {
    const v = value(o.value);
    if (v !== undefined && v.lastUse !== end) problems.push(`output ${o.name} (v${v.id}) is only live to ${v.lastUse}`);
  }
  return problems;
}

function sameType(v: { shape: readonly number[]; dtype: string }, o: { shape: readonly number[]; dtype: string }): boolean {
  return v.dtype === o.dtype && v.shape.length === o.shape.length && v.shape.every((d, i) => d === o.shape[i]);
}

/** Throws when `g` breaks an invariant, naming the first few problems. */
export function assertValidKernelGraph(g: KernelGraph): void {
  const problems = kernelGraphProblems(g);
  if (problems.length > 0) {
    throw new Error(`invalid kernel graph: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ""}`);
  }
}
