/**
 * `repr check --shapes`: a readable table of every model's inputs, parts,
 * losses and parameter counts, and of every pipeline's steps. The first line
 * of a model's or a part's doc comment follows it as `# ...`.
 */
import type { CheckedModel, CheckedPipeline, CheckedProgram, CheckedStep, DataRef } from "./program.js";
import { formatShape, formatType } from "./types.js";

/** `218,048`. */
function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** A table row: label, description, parameter count, and an optional doc line. */
type Row = readonly [string, string, string, string?];

/** Lays rows out in columns: label, description, parameter count (right-aligned), then `# doc`. */
function table(rows: readonly Row[]): string[] {
  const w0 = Math.max(0, ...rows.map((r) => r[0].length));
  // Rows without a count (masks, losses) may run long without widening the table.
  const w1 = Math.max(0, ...rows.filter((r) => r[2]).map((r) => r[1].length));
  const w2 = Math.max(0, ...rows.map((r) => r[2].length));
  return rows.map(([a, b, c, doc]) => {
    if (!b && !c) return `  ${a}`;
    const line = `  ${a.padEnd(w0)}  ${c ? b.padEnd(w1) : b}${c ? `  ${c.padStart(w2)}` : ""}${doc ? `  # ${doc}` : ""}`;
    return line.trimEnd();
  });
}

/** The first line of a doc comment, cut at a word to keep the table readable. */
function firstLine(doc: string | null, limit = 64): string {
  const line = (doc ?? "").split("\n")[0]!.trim();
  if (line.length <= limit) return line;
  const cut = line.slice(0, limit);
  const space = cut.lastIndexOf(" ");
  return `${(space > limit / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/, "")}…`;
}

function formatModel(model: CheckedModel): string {
  const rows: Row[] = [];
  for (const input of model.inputs) rows.push([`input ${input.name}`, formatType(input.type), ""]);
  for (const node of model.graph.nodes) {
    if (node.op !== "mask") continue;
    const f = node.fields;
    rows.push([`mask ${node.name}`, `${node.strategy}: input ${formatShape(f.input)}, target ${formatShape(f.target)}, masked ${formatShape(f.masked)}`, ""]);
  }
  for (const part of model.parts) {
    const shapes = part.input && part.output ? `${formatShape(part.input)} -> ${formatShape(part.output)}` : "(never applied)";
    rows.push([`${part.role} ${part.name}`, shapes, `${count(part.params)} params`, firstLine(part.doc)]);
  }
  for (const l of model.lets) rows.push([`let ${l.name}`, formatType(l.type), ""]);
  for (const o of model.outputs) rows.push([`output ${o.name}`, formatType(o.type), ""]);
  for (const loss of model.losses) {
    const on = loss.on !== null ? ` on ${describeOn(model, loss.on)}` : "";
    const reg = loss.regularizers.length > 0 ? ` + ${loss.regularizers.join(" + ")}` : "";
    rows.push([`loss ${loss.name}`, `${lossTerms(model, loss.node).join(" + ")}${on}${reg}`, ""]);
  }
  if (model.prediction) {
    const p = model.prediction;
    const path = p.output !== null ? "output" : [p.source, ...p.parts].join(" -> ");
    rows.push(["predict", `${path}: ${formatShape(p.type)}`, ""]);
  }
  rows.push(["total", "", `${count(model.totalParams)} params`]);
  const doc = firstLine(model.doc);
  return [`model ${model.name}${doc ? `  # ${doc}` : ""}`, ...table(rows)].join("\n");
}

/** The terms of a loss's arithmetic as names: its objectives and reductions (`bce`, `sum`), or `value` for anything else. */
function lossTerms(model: CheckedModel, id: number): string[] {
  const n = model.graph.nodes[id];
  if (n?.op === "binary") return [n.left, n.right].flatMap((side) => (typeof side === "number" ? lossTerms(model, side) : []));
  if (n?.op === "negate") return lossTerms(model, n.input);
  return [n?.op === "call" ? n.name : "value"];
}

function describeOn(model: CheckedModel, id: number): string {
  const node = model.graph.nodes[id];
  if (node?.op !== "select") return "?";
  const mask = model.graph.nodes[node.source];
  return mask?.op === "mask" ? `${mask.name}.${node.field}` : node.field;
}

function formatData(ref: DataRef): string {
  const options = [ref.perClass !== null ? `per_class: ${ref.perClass}` : "", ref.labels ? `labels: [${ref.labels.join(", ")}]` : ""].filter(Boolean);
  return `${ref.data}.${ref.split}${options.length ? `(${options.join(", ")})` : ""}`;
}

function formatStep(step: CheckedStep): Row {
  switch (step.kind) {
    case "pretrain":
      return [`pretrain ${step.model}`, `on ${formatData(step.data)}; trains ${step.trainable.join(", ") || "nothing"}; objectives ${step.settings.objectives.join(", ") || "none"}`, ""];
    case "freeze":
    case "unfreeze":
      return [step.kind, step.parts.join(", "), ""];
    case "replace":
      return [`replace ${step.part}`, step.layer ? `${formatShape(step.layer.input)} -> ${formatShape(step.layer.output)}` : "", `${count(step.params)} params`];
    case "adapt":
      return ["adapt", `on ${formatData(step.data)}; trains ${step.trainable.join(", ") || "nothing"}`, ""];
    case "test":
      return ["test", `on ${formatData(step.data)}; metrics ${step.settings.metrics.map((m) => m.name).join(", ") || "default"}`, ""];
  }
}

function formatPipeline(p: CheckedPipeline): string {
  return [`pipeline ${p.name}${p.model ? ` (model ${p.model})` : ""}`, ...table(p.steps.map(formatStep))].join("\n");
}

/** The shapes table for `repr check --shapes`: models, then pipelines. */
export function formatShapes(program: CheckedProgram): string {
  return [...program.models.map(formatModel), ...program.pipelines.map(formatPipeline)].join("\n\n");
}
