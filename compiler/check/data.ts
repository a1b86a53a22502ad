/**
 * Data declarations: the fields a data source provides, each with a data type.
 */
import type { DataDecl, Name } from "../../language/ast.js";
import { messages } from "../../language/diagnostics/messages.js";
import type { CheckEnv } from "./env.js";
import { ExpressionEvaluator } from "./evaluate.js";
import type { ModuleInfo } from "./modules.js";
import type { CheckedData, CheckedField } from "./program.js";
import { moduleScope } from "./scope.js";

/** Checks a data declaration: every field has a data type, no field twice. */
export function checkData(env: CheckEnv, module: ModuleInfo, decl: DataDecl): CheckedData {
  const ev = new ExpressionEvaluator(env, { module, scope: moduleScope(module), graph: null });
  const seen = new Map<string, Name>();
  const fields: CheckedField[] = [];
  const untyped: string[] = [];
  for (const field of decl.fields) {
    const first = seen.get(field.name.text);
    if (first) {
      ev.report(messages.duplicateDefinition, field.name.span, { name: field.name.text, scope: "data declaration" }, {
        related: [{ source: module.source, span: first.span, message: "first defined here" }],
      });
      continue;
    }
    seen.set(field.name.text, field.name);
    const type = ev.evaluateType(field.type, `field '${field.name.text}' of data '${decl.name.text}'`);
    if (type) fields.push({ name: field.name.text, type, doc: field.doc });
    else untyped.push(field.name.text);
  }
  return { name: decl.name.text, doc: decl.doc, fields, untyped, location: { source: module.source, span: decl.name.span } };
}

/**
 * The field that holds the labels: the one named `label` when it is a class
 * label, else the only class-label field. Decision (spec): with several
 * class-label fields and none named `label`, steps that need labels refuse.
 */
export function labelField(data: CheckedData): CheckedField | null {
  const labels = data.fields.filter((f) => f.type.classes !== undefined);
  return labels.find((f) => f.name === "label") ?? (labels.length === 1 ? labels[0]! : null);
}
