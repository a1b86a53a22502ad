/**
 * Arbitrary plans whose every string is hostile: comment closers, template
 * holes, quotes, backslashes, every line terminator, NUL, lone surrogates,
 * emoji, bidirectional controls, TSDoc tags, reserved words and the names the
 * generated module itself uses.
 */
import fc from "fast-check";
import { PLAN_FORMAT, type ModelPlan, type PlanDataRef, type PlanInput, type PlanPipeline, type PlanStep } from "../../runtime/api/plan.js";
import type { DataSpec } from "../../runtime/data/spec.js";
import type { BatchGraph, BatchNode } from "../../runtime/ir/batch-graph.js";
import type { KernelGraph } from "../../runtime/kernel/graph.js";

/** Pieces that have broken code generators. */
export const NASTY = [
  "*/",
  "/*",
  "/**",
  "//",
  "${x}",
  "`",
  "\\",
  "\\u2028",
  '"',
  "'",
  "\n",
  "\r",
  "\r\n",
  "\u2028",
  "\u2029",
  "\u0085",
  "\0",
  "\x1b",
  "\x7f",
  "\uD800",
  "\uDFFF",
  "😀",
  "\u202E",
  "\u2066",
  "\u200F",
  "\uFEFF",
  "@param x - injected",
  "@returns",
  "{@link X}",
  " * @deprecated",
  "</script>",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "delete",
  "class",
  "await",
  "arguments",
  "count",
  "Model",
  "PLAN",
  "Symbol",
  "Float32Array",
  "planFromJson",
  "this",
  "0",
  "9lives",
  "-",
  " ",
  "$",
  "é",
  "ß",
  "名前",
];

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** A hostile string: pieces, single UTF-16 code units (lone surrogates included) and whole code points, joined. */
export const nastyString: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: codeUnit, maxLength: 4 }), fc.string({ unit: "binary", maxLength: 4 }), fc.constantFrom("a", "b", "x_1")), {
    maxLength: 6,
  })
  .map((parts) => parts.join(""));

/** A name: mostly plain identifiers (so that collisions happen), sometimes hostile. */
export const nastyName: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom("x", "image", "a_b", "a-b", "a b", "encode", "train", "fit", "freeze", "save", "backend", "constructor", "count", "_") },
  { weight: 3, arbitrary: nastyString },
);

const dtype = fc.constantFrom("f32" as const, "i32" as const);
const shape = fc.array(fc.nat({ max: 32 }), { maxLength: 3 });
const anyNumber = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1e300, 5e-324));

const input: fc.Arbitrary<PlanInput> = fc
  .record({ name: nastyName, dtype, shape, classes: fc.option(fc.nat({ max: 1000 }), { nil: undefined }) })
  .map(({ classes, ...rest }) => (classes === undefined ? rest : { ...rest, classes }));

/** A kernel graph shaped like the real thing, carrying hostile names and non-finite constants in its data. */
const graph: fc.Arbitrary<KernelGraph> = fc
  .record({
    names: fc.array(nastyName, { minLength: 1, maxLength: 3 }),
    attrs: fc.record({ value: anyNumber, values: fc.array(anyNumber, { maxLength: 4 }), name: nastyString }),
  })
  .map(({ names, attrs }) => ({
    version: 1 as const,
    kernels: [{ id: 0, ops: [{ op: "const" as const, attrs, args: [], shape: [2], dtype: "f32" as const }], inputs: [], output: 0, shape: [2], dtype: "f32" as const }],
    values: [{ id: 0, shape: [2], dtype: "f32" as const, role: "output" as const, buffer: 0, def: 0, lastUse: 1 }],
    buffers: [{ id: 0, bytes: 8, role: "output" as const }],
    inputs: [],
    params: names.map((name) => ({ name, value: 0, shape: [2], dtype: "f32" as const })),
    outputs: [{ name: names[0]!, value: 0, shape: [2], dtype: "f32" as const }],
    memory: { peakBytes: 8, peakBytesWithoutReuse: 8, liveBytesMax: 8 },
  }));

/** A polynomial in the batch size, as batch graphs spell dims that depend on it. */
const poly = fc.tuple(fc.integer({ min: -9, max: 9 }), fc.integer({ min: 1, max: 9 })).map(([c0, c1]) => ({ B: [c0, c1] }));

/** A batch graph shaped like the real thing, carrying hostile names, non-finite constants and polynomials in its data. */
const batchGraph: fc.Arbitrary<BatchGraph> = fc
  .record({
    names: fc.array(nastyName, { minLength: 1, maxLength: 3 }),
    dim: poly,
    attrs: fc.record({ value: anyNumber, values: fc.array(anyNumber, { maxLength: 4 }), name: nastyString }),
  })
  .map(({ names, dim, attrs }): BatchGraph => ({
    version: 1,
    nodes: [
      { op: "input", inputs: [], attrs: { name: names[0]!, shape: [dim, 2], dtype: "f32" } },
      ...names.map((name): BatchNode => ({ op: "param", inputs: [], attrs: { name, shape: [2], dtype: "f32" } })),
      { op: "const", inputs: [], attrs: { ...attrs, shape: [dim], dtype: "f32" } },
    ],
    outputs: names.map((name, i) => ({ name, node: i + 1 })),
  }));

const doc = fc.option(nastyString, { nil: null });
const role = fc.oneof(fc.constantFrom("encoder", "bottleneck", "decoder", "head", "part"), nastyString);
const tensor = fc.record({ name: nastyString, dtype, shape, owner: nastyName });

const planFunction = fc.record({
  name: nastyName,
  doc,
  inputs: fc.uniqueArray(input, { maxLength: 4, selector: (i) => i.name }),
  output: fc.record({ dtype, shape }),
  graph: batchGraph,
});

const noise = fc.record({ prob: nastyString, alias: nastyString, fields: fc.array(nastyName, { maxLength: 2 }), vocab: fc.nat({ max: 10_000 }) });

const training = fc.record({
  name: nastyName,
  doc,
  inputs: fc.uniqueArray(input, { maxLength: 3, selector: (i) => i.name }),
  batch: fc.integer({ min: 1, max: 64 }),
  graph: batchGraph,
  trainable: fc.array(nastyName, { maxLength: 2 }),
  frozen: fc.array(nastyName, { maxLength: 2 }),
  state: fc.array(fc.record({ name: nastyString, shape }), { maxLength: 2 }),
  updates: fc.nat({ max: 10_000 }),
  noise: fc.array(noise, { maxLength: 2 }),
  updatesInput: fc.option(nastyString, { nil: null }),
  epochs: fc.integer({ min: 1, max: 100 }),
});

const dataRef: fc.Arbitrary<PlanDataRef> = fc.record({
  data: nastyName,
  split: fc.constantFrom("train" as const, "test" as const),
  labels: fc.option(fc.array(fc.nat({ max: 9 }), { maxLength: 3 }), { nil: null }),
  perClass: fc.option(fc.nat({ max: 100 }), { nil: null }),
});

const seed = fc.option(fc.nat(), { nil: null });

/** A pipeline step of each kind, its text hostile: data names, parts, metric names and labels. */
const step: fc.Arbitrary<PlanStep> = fc.oneof(
  fc.record({ kind: fc.constantFrom("pretrain" as const, "adapt" as const), data: dataRef, seed, training }),
  fc.record({ kind: fc.constantFrom("freeze" as const, "unfreeze" as const), parts: fc.array(nastyName, { maxLength: 2 }) }),
  fc.record({ kind: fc.constant("replace" as const), part: nastyName, head: fc.record({ tensors: fc.array(tensor, { maxLength: 2 }), init: graph }) }),
  fc.record({
    kind: fc.constant("test" as const),
    data: dataRef,
    seed,
    batch: fc.integer({ min: 1, max: 64 }),
    inputs: fc.uniqueArray(input, { maxLength: 3, selector: (i) => i.name }),
    graph: batchGraph,
    metrics: fc.array(fc.record({ name: nastyString, args: fc.record({ k: fc.oneof(fc.nat(), nastyString, fc.boolean()) }, { requiredKeys: [] }), label: nastyString, target: fc.option(nastyString, { nil: null }) }), { maxLength: 2 }),
    label: fc.option(nastyName, { nil: null }),
    reference: fc.option(dataRef, { nil: null }),
    noise: fc.array(noise, { maxLength: 1 }),
  }),
);

const pipeline: fc.Arbitrary<PlanPipeline> = fc.record({
  name: nastyName,
  doc,
  steps: fc.array(step, { maxLength: 3 }),
  start: fc.record({ tensors: fc.array(tensor, { maxLength: 2 }), init: graph }),
  after: fc.option(fc.record({ tensors: fc.array(tensor, { maxLength: 2 }), init: graph, functions: fc.array(planFunction, { maxLength: 2 }) }), { nil: null }),
});

const dataSpec: fc.Arbitrary<DataSpec> = fc.record({
  name: nastyName,
  fields: fc.array(fc.record({ name: nastyString, kind: fc.constantFrom("f32" as const, "label" as const, "token" as const, "tokens" as const), shape }), { maxLength: 2 }),
});

/** A whole plan with hostile text everywhere text can be. */
export const nastyPlan: fc.Arbitrary<ModelPlan> = fc.record({
  format: fc.constant(PLAN_FORMAT),
  model: nastyName,
  doc,
  source: nastyString,
  parts: fc.array(fc.record({ name: nastyName, role, doc }), { maxLength: 4 }),
  tensors: fc.array(tensor, { maxLength: 3 }),
  init: graph,
  functions: fc.array(planFunction, { maxLength: 4 }),
  training: fc.array(training, { maxLength: 3 }),
  data: fc.array(dataSpec, { maxLength: 2 }),
  pipelines: fc.array(pipeline, { maxLength: 2 }),
  sampling: fc.constant(null),
});
