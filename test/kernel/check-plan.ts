/**
 * The validity conditions of a kernel graph's memory plan, as a checker that
 * returns every violation it finds (empty when the plan is valid).
 */
import type { KernelGraph } from "../../runtime/kernel/graph.js";
import { valueBytes } from "../../runtime/kernel/plan.js";

export function planViolations(g: KernelGraph): string[] {
  const problems: string[] = [];
  const end = g.kernels.length;
  g.kernels.forEach((k, i) => {
    if (k.id !== i) problems.push(`kernel at ${i} has id ${k.id}`);
    const out = g.values[k.output]!;
    if (out.def !== k.id) problems.push(`v${out.id} is written by k${k.id} but says def ${out.def}`);
    for (const v of k.inputs) {
      const val = g.values[v]!;
      if (!(val.def < k.id)) problems.push(`k${k.id} reads v${v} before it is written (def ${val.def})`);
      if (!(val.lastUse >= k.id)) problems.push(`k${k.id} reads v${v} after its last use ${val.lastUse}`);
    }
  });
  for (const v of g.values) {
    if (v.role === "input" || v.role === "param") {
      if (v.def !== -1) problems.push(`${v.role} v${v.id} has def ${v.def}`);
    } else if (g.kernels[v.def]?.output !== v.id) problems.push(`v${v.id} is not written by its def k${v.def}`);
    if (g.buffers[v.buffer]!.bytes < valueBytes(v)) problems.push(`v${v.id} does not fit b${v.buffer}`);
  }
  // No two simultaneously live values share a buffer.
  const byBuffer = new Map<number, typeof g.values[number][]>();
  for (const v of g.values) byBuffer.set(v.buffer, [...(byBuffer.get(v.buffer) ?? []), v]);
  for (const [b, tenants] of byBuffer) {
    const role = g.buffers[b]!.role;
    if (role !== "shared" && tenants.length !== 1) problems.push(`${role} buffer b${b} is shared by ${tenants.length} values`);
    if (role === "shared" && tenants.some((t) => t.role !== "temp")) problems.push(`shared b${b} holds a non-temporary value`);
    for (const p of tenants) {
      for (const q of tenants) {
        if (p.id < q.id && !(p.lastUse < q.def || q.lastUse < p.def)) {
          problems.push(`v${p.id} [${p.def}, ${p.lastUse}] and v${q.id} [${q.def}, ${q.lastUse}] are live together in b${b}`);
        }
      }
    }
  }
  // Outputs: live to the end, in buffers of their own.
  const outputBuffers = new Map<number, number>();
  for (const o of g.outputs) {
    const v = g.values[o.value]!;
    if (v.lastUse !== end) problems.push(`output ${o.name} (v${v.id}) dies at ${v.lastUse}`);
    const other = outputBuffers.get(v.buffer);
    if (other !== undefined && other !== v.id) problems.push(`outputs v${other} and v${v.id} share b${v.buffer}`);
    outputBuffers.set(v.buffer, v.id);
  }
  return problems;
}
