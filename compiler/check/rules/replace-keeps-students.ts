/**
 * Replace keeps a teacher's students: a head that a momentum teacher follows
 * cannot be replaced, since the teacher's copies of its tensors would no
 * longer fit it.
 * Spec: spec/teachers.md#in-a-pipeline
 */
import { messages } from "../../../language/diagnostics/messages.js";
import { followedPartsOf, teacherNode } from "../teacher.js";
import type { Rule } from "./rule.js";

export const replaceKeepsStudents: Rule = {
  name: "replace-keeps-students",
  spec: "spec/teachers.md#in-a-pipeline",
  step({ step, model, report }) {
    if (step.kind !== "Replace" || !model) return;
    const parts = new Map(model.parts.map((p) => [p.name, p]));
    for (const part of model.parts) {
      const teacher = teacherNode(part.layer);
      if (!teacher || !followedPartsOf(teacher, parts).includes(step.part.text)) continue;
      report(messages.replaceFollowed, step.part.span, { name: step.part.text, teacher: part.name }, {
        notes: [`'${part.name}' keeps a copy of every tensor of '${step.part.text}' and follows them; a new head would have others`],
      });
      return;
    }
  },
};
