/**
 * A program's fused kernels made from the groups `planFusion` decided: each
 * group becomes one kernel whose ops are its members' primitives in order,
 * reading the group's inputs and each other's results, and whose outputs are
 * the root's value and the group's extra outputs. Values no group writes
 * (those computed inside a group) disappear; the rest are numbered again in
 * their old order. The primitives are unchanged, so the fused program
 * computes what the unfused one did.
 */
import type { Kernel, KernelArg, NamedValue } from "./graph.js";
import { joinAttention } from "./fuse-attention.js";
import { groupInputs, MAX_BINDINGS, planFusion, type FusionGroup, type FusionOptions } from "./fuse.js";
import type { KernelProgram } from "./program.js";

/** `program` with its kernels fused as `planFusion` decides (and attention joined where `options.attention` asks). */
export function fuseProgram(program: KernelProgram, options: FusionOptions = {}): KernelProgram {
  const groups = planFusion(program, options);
  return groupedProgram(program, options.attention === true ? joinAttention(groups, program, options.attentionBindings ?? options.maxBindings ?? MAX_BINDINGS) : groups);
}

/** `program` with each group of `groups` (in execution order) as one kernel. */
export function groupedProgram(program: KernelProgram, groups: readonly FusionGroup[]): KernelProgram {
  const kept = new Set<number>();
  for (const v of program.values) if (v.role === "input" || v.role === "param") kept.add(v.id);
  for (const g of groups) for (const v of g.outputs) kept.add(v);
  const renumber = new Map<number, number>();
  const values = program.values.filter((v) => kept.has(v.id)).map((v, i) => (renumber.set(v.id, i), { ...v, id: i }));
  const id = (v: number): number => {
    const n = renumber.get(v);
    if (n === undefined) throw new Error(`fusion: v${v} is read outside its group but never written`);
    return n;
  };
  const kernels: Kernel[] = groups.map((g, index) => {
    const inputs = groupInputs(g.kernels, program.kernels);
    const opOf = new Map<number, number>();
    const ops = g.kernels.map((m, j) => {
      const k = program.kernels[m]!;
      opOf.set(k.output, j);
      const primitive = k.ops[0]!;
      const args: KernelArg[] = k.inputs.map((u) => {
        const at = opOf.get(u);
        return at !== undefined ? { op: at } : { input: inputs.indexOf(u) };
      });
      return { ...primitive, args };
    });
    const root = program.kernels[g.root]!;
    const extra = g.outputs.slice(1).map((v) => ({ op: opOf.get(v)!, value: id(v) }));
    return {
      id: index,
      ops,
      inputs: inputs.map(id),
      output: id(root.output),
      shape: root.shape,
      dtype: root.dtype,
      ...(g.kind === "single" ? {} : { kind: g.kind }),
      ...(extra.length > 0 ? { extraOutputs: extra } : {}),
    };
  });
  const named = (n: NamedValue): NamedValue => ({ ...n, value: id(n.value) });
  return { kernels, values, inputs: program.inputs.map(named), params: program.params.map(named), outputs: program.outputs.map(named) };
}
