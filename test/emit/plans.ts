/** A small fixed plan for the emitter's tests: two functions, one training step, a head, a non-finite constant, a pipeline. */
import { fitBatchGraph } from "../../compiler/plan/index.js";
import { PLAN_FORMAT, type ModelPlan, type PlanFunction, type PlanTraining } from "../../runtime/api/plan.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph } from "../../runtime/ir/node.js";
import type { KernelGraph } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";

/** `relu(x · w)` floored at −∞ (a constant JSON cannot spell), at `batch` examples. */
function encodeGraph(batch: number): Graph {
  const b = new IRBuilder();
  const x = b.input("image", [batch, 3]);
  const w = b.param("f.w", [3, 2]);
  return b.graph({ output: b.maximum(b.relu(b.matmul(x, w)), b.constant(-Infinity)) });
}

/** The class ids: `argmax` spelled as the top-1 index. */
function classifyGraph(batch: number): Graph {
  const b = new IRBuilder();
  const x = b.input("image", [batch, 3]);
  const w = b.param("f.w", [3, 2]);
  const h = b.param("h.w", [2, 2]);
  const scores = b.matmul(b.matmul(x, w), h);
  return b.graph({ output: b.squeeze(b.topk(scores, 1).indices, 1) });
}

function trainGraph(batch: number): Graph {
  const b = new IRBuilder();
  const x = b.input("image", [batch, 3]);
  b.input("label", [batch], "i32");
  const w = b.param("f.w", [3, 2]);
  const y = b.matmul(x, w);
  const loss = b.mean(b.mul(y, y));
  return b.graph({ loss, "new:f.w": b.sub(w, b.mul(w, 0.01)) });
}

function initGraph(): KernelGraph {
  const b = new IRBuilder();
  b.input("seed", [], "i32");
  return planKernelGraph(b.graph({ "f.w": b.constant(0.5, [3, 2]), "h.w": b.constant(-0, [2, 2]) }));
}

const image = { name: "image", dtype: "f32", shape: [3] } as const;

function fn(name: string, doc: string | null, output: PlanFunction["output"], graph: (batch: number) => Graph): PlanFunction {
  return { name, doc, inputs: [image], output, graph: fitBatchGraph(graph, `function '${name}'`) };
}

/** The fixed plan of the golden test. */
export function tinyPlan(): ModelPlan {
  const train: PlanTraining = {
    name: "train",
    doc: null,
    inputs: [image, { name: "label", dtype: "i32", shape: [], classes: 2 }],
    batch: 4,
    graph: fitBatchGraph(trainGraph, "training step 'train'"),
    trainable: ["f"],
    frozen: ["h"],
    state: [],
    updates: 10,
    noise: [],
    updatesInput: null,
    epochs: 1,
  };
  return {
    format: PLAN_FORMAT,
    model: "tiny_classifier",
    doc: "Classifies three numbers into two classes.\nA fixture: its graphs are hand-built.",
    source: "examples/tiny.repr",
    parts: [
      { name: "f", role: "encoder", doc: "The encoder." },
      { name: "h", role: "head", doc: null },
    ],
    tensors: [
      { name: "f.w", dtype: "f32", shape: [3, 2], owner: "f" },
      { name: "h.w", dtype: "f32", shape: [2, 2], owner: "h" },
    ],
    init: initGraph(),
    functions: [
      fn("encode", "The representation of each example.", { dtype: "f32", shape: [2] }, encodeGraph),
      fn("classify", null, { dtype: "i32", shape: [], classes: 2 }, classifyGraph),
    ],
    training: [train],
    data: [
      {
        name: "tiny",
        fields: [
          { name: "image", kind: "f32", shape: [3] },
          { name: "label", kind: "label", shape: [], classes: 2 },
        ],
      },
    ],
    sampling: null,
    pipelines: [
      {
        name: "Train",
        doc: "Trains the encoder on the tiny data.",
        steps: [
          { kind: "pretrain", data: { data: "tiny", split: "train", labels: null, perClass: null }, seed: 2, training: { ...train, name: "pretrain", updates: 3 } },
          { kind: "freeze", parts: ["f"] },
        ],
        start: {
          tensors: [
            { name: "f.w", dtype: "f32", shape: [3, 2], owner: "f" },
            { name: "h.w", dtype: "f32", shape: [2, 2], owner: "h" },
          ],
          init: initGraph(),
        },
        after: null,
      },
    ],
  };
}
