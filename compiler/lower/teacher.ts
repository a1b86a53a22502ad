/**
 * Momentum teachers (spec/teachers.md): `part t = ema(f -> g, momentum: m)`.
 *
 * A teacher holds a copy of every tensor of the parts it follows, named with
 * the teacher's name in front (`t.f.0.weight` is the copy of `f.0.weight`),
 * owned by the teacher and never trained by gradient. Applying the teacher
 * runs the layers of the parts it names on those copies, in the teacher's
 * own mode. After every update of a training step, each copy of a learned
 * weight the step trains follows its student: `t ← m·t + (1 − m)·s`, with `s`
 * the student's value after the update; copies of running statistics are the teacher's own,
 * updated by its own forward pass in training mode, like any part's.
 *
 * **Invariant:** a teacher's tensors are exactly `t.` + the tensors of the
 * parts it follows (declare.ts and lowering both name them here), and the
 * update is part of the training-step graph (`emaUpdates`), so a run,
 * a resume and a checkpoint hold the teacher like any other state.
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import type { BuiltinLayerNode } from "../check/program.js";
export { followedPartsOf as followedParts, teacherNode } from "../check/teacher.js";
import type { ParamInfo } from "./init.js";

/** The teacher a layer is lowered for: its part name and momentum. */
export interface TeacherCtx {
  readonly name: string;
  readonly momentum: number;
}

/** A teacher's momentum, from its checked node. */
export function teacherMomentum(node: BuiltinLayerNode): number {
  const m = node.args["momentum"];
  return typeof m === "number" ? m : 0.99;
}

/** The teacher's copy of a student tensor: renamed, owned by the teacher, state; a learned weight follows its student. */
export function teacherTensor(student: ParamInfo, teacher: TeacherCtx): ParamInfo {
  const { follows: _, ...rest } = student;
  return {
    ...rest,
    name: `${teacher.name}.${student.name}`,
    owner: teacher.name,
    kind: "state",
    decay: false,
    layer: 0,
    ...(student.kind === "weight" ? { follows: { name: student.name, momentum: teacher.momentum } } : {}),
  };
}

/**
 * The training step's updates of every teacher tensor whose student the
 * step updates (`updated`: the students' new values s'): `m·t + (1 − m)·s'`.
 * A copy of a student the step does not train (frozen, or not reached by
 * its objective) stays as it is, so no update reads a frozen tensor; nor
 * does a teacher in `frozen` move.
 */
export function emaUpdates(b: IRBuilder, params: readonly ParamInfo[], updated: ReadonlyMap<string, Node>, frozen: (p: ParamInfo) => boolean): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const p of params) {
    if (!p.follows || frozen(p)) continue;
    const s = updated.get(p.follows.name);
    if (!s) continue;
    const t = b.param(p.name, p.shape, p.dtype);
    const m = p.follows.momentum;
    out.set(p.name, b.add(b.mul(t, m), b.mul(s, 1 - m)));
  }
  return out;
}
