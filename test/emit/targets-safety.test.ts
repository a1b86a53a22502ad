/**
 * The ONNX and PyTorch targets against hostile text: a real plan (the MNIST
 * autoencoder with its pipeline) whose model, docs, function, input, tensor,
 * pipeline and data names are all replaced by hostile strings (test/emit/
 * arbitrary.ts: quotes, backslashes, line terminators, NUL, lone surrogates,
 * bidirectional controls, keywords, the generated code's own names).
 *
 * - PyTorch: `model.py` parses, holds nothing but its imports and one class
 *   of the decided methods, carries every tensor name unchanged (its
 *   state_dict keys are the names), and runs; a tensor name no state_dict key
 *   can be is refused with a message naming it.
 * - ONNX: file names are safe and distinct, every file decodes with the names
 *   and docs it was given (lone surrogates as U+FFFD, since protobuf strings
 *   are UTF-8), and ONNX Runtime runs the function it describes.
 */
import fc from "fast-check";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { describeOnnx, printOnnx } from "../../compiler/emit/onnx/index.js";
import { describePytorch, printPytorch, PytorchExportError } from "../../compiler/emit/pytorch/index.js";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { Source } from "../../language/source.js";
import type { ModelPlan, PlanTraining } from "../../runtime/api/plan.js";
import { loadOrt, loadProtobuf, ONNX_SCHEMA, sessionOptions } from "../../runtime/backends/onnx/index.js";
import { wellFormed } from "../../runtime/backends/onnx/translate.js";
import type { BatchGraph } from "../../runtime/ir/batch-graph.js";
import type { KernelGraph } from "../../runtime/kernel/graph.js";
import { onnxMissing } from "../onnx/available.js";
import { PYTHON, torchMissing } from "../pytorch/available.js";
import { nastyString } from "./arbitrary.js";

const dir = mkdtempSync(join(tmpdir(), "repr-targets-safety-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const path = "examples/mnist-autoencoder.repr";
const base = buildModelPlan(checkProgram(new Source(path, readFileSync(path, "utf8")), nodeFileHost).program, "Autoencoder", {});

/** The hostile names of one run. */
interface Names {
  readonly model: string;
  readonly doc: string;
  readonly fns: readonly string[];
  readonly input: string;
  readonly segments: readonly string[];
  readonly pipeline: string;
  readonly data: string;
}

/** `base` with every name replaced: tensors become `SEGMENT_k.SEGMENT_j`-style dotted names. */
function rename(n: Names): { plan: ModelPlan; tensors: Map<string, string> } {
  const tensors = new Map(base.tensors.map((t, i) => [t.name, `${n.segments[i % n.segments.length]!}${i}.${n.segments[(i + 1) % n.segments.length]!}`]));
  const tensor = (name: string): string => tensors.get(name) ?? name;
  const input = (name: string): string => (name === "image" ? n.input : name);
  const leafName = (op: string, name: string): string => (op === "input" ? input(name) : op === "param" ? tensor(name) : name);
  const out = (name: string): string => (name.startsWith("new:") ? `new:${tensor(name.slice(4))}` : name);
  const batch = (g: BatchGraph): BatchGraph => ({
    ...g,
    nodes: g.nodes.map((x) => (x.op === "input" || x.op === "param" ? { ...x, attrs: { ...x.attrs, name: leafName(x.op, x.attrs["name"] as string) } } : x)),
    outputs: g.outputs.map((o) => ({ ...o, name: out(o.name) })),
  });
  const kernel = (g: KernelGraph): KernelGraph => ({ ...g, outputs: g.outputs.map((o) => ({ ...o, name: tensor(o.name) })) });
  const training = (t: PlanTraining): PlanTraining => ({
    ...t,
    doc: n.doc,
    inputs: t.inputs.map((i) => ({ ...i, name: input(i.name) })),
    graph: batch(t.graph),
    optimizer: { ...t.optimizer!, params: t.optimizer!.params.map((p) => ({ ...p, name: tensor(p.name) })) },
  });
  const plan: ModelPlan = {
    ...base,
    model: n.model,
    doc: n.doc,
    tensors: base.tensors.map((t) => ({ ...t, name: tensor(t.name) })),
    init: kernel(base.init),
    functions: base.functions.map((f, i) => ({ ...f, name: n.fns[i]!, doc: n.doc, inputs: f.inputs.map((x) => ({ ...x, name: input(x.name) })), graph: batch(f.graph) })),
    training: base.training.map(training),
    data: base.data.map((d) => ({ ...d, name: n.data })),
    pipelines: base.pipelines.map((p) => ({
      ...p,
      name: n.pipeline,
      doc: n.doc,
      steps: p.steps.map((s) => (s.kind === "pretrain" || s.kind === "adapt" ? { ...s, data: { ...s.data, data: n.data }, training: training(s.training) } : s.kind === "test" ? { ...s, data: { ...s.data, data: n.data }, inputs: s.inputs.map((i) => ({ ...i, name: input(i.name) })), graph: batch(s.graph) } : s)),
      start: { tensors: p.start.tensors.map((t) => ({ ...t, name: tensor(t.name) })), init: kernel(p.start.init) },
    })),
  };
  return { plan, tensors };
}

/** A segment a state_dict key can hold: no dot, not empty, no leading `_`, not an nn.Module attribute (those are refused, tested below). */
const segment = nastyString.map((s) => s.replace(/\./g, "·").replace(/^_*/, "")).filter((s) => s !== "" && !["forward", "training", "train", "eval", "to", "cpu", "cuda", "float", "double", "half", "type", "apply", "T_destination", "modules", "children", "buffers", "parameters", "compile"].includes(s));
const names: fc.Arbitrary<Names> = fc.record({
  model: nastyString,
  doc: nastyString,
  fns: fc.array(nastyString, { minLength: base.functions.length, maxLength: base.functions.length }),
  input: nastyString.filter((s) => s !== "" && !s.includes(".") && !["seed", "step", "updates"].includes(s)),
  segments: fc.uniqueArray(segment, { minLength: 2, maxLength: 4 }),
  pipeline: nastyString,
  data: nastyString,
});

const RUNS = 12;
const torch = torchMissing();
const onnx = await onnxMissing();

describe("the ONNX and PyTorch targets with hostile text", () => {
  it.skipIf(torch !== null)(`PyTorch: model.py parses to exactly the decided class, keeps every tensor name, and runs${torch ? ` (skipped: ${torch})` : ""}`, () => {
    const cases: { folder: string; className: string; methods: string[]; tensors: string[]; encode: string }[] = [];
    fc.assert(
      fc.property(names, (n) => {
        const { plan } = rename(n);
        const module = describePytorch([plan]);
        const folder = join(dir, `py${cases.length}`);
        mkdirSync(folder);
        for (const [file, text] of printPytorch(module)) {
          expect(file).toMatch(/^[A-Za-z0-9_]+\.py$/);
          // Pure ASCII: every other character of the plan's text is an escape.
          expect(text).toMatch(/^[\x09\x0a\x20-\x7e]*$/);
          writeFileSync(join(folder, file), text);
        }
        const c = module.classes[0]!;
        cases.push({ folder, className: c.name, methods: c.methods.map((m) => m.name), tensors: plan.tensors.map((t) => t.name), encode: c.methods[1 + plan.functions.findIndex((f) => f.output.shape.join() === "32")]!.name });
      }),
      { numRuns: RUNS },
    );
    writeFileSync(join(dir, "py-cases.json"), JSON.stringify(cases));
    const script = `
import ast, json, sys, importlib, torch
cases = json.load(open(sys.argv[1]))
for c in cases:
    text = open(c["folder"] + "/model.py").read()
    tree = ast.parse(text)
    kinds = [type(s).__name__ for s in tree.body]
    assert kinds == ["Import", "ImportFrom", "Import", "Assign", "ClassDef"], kinds
    cls = tree.body[-1]
    assert cls.name == c["className"], cls.name
    defs = [s.name for s in cls.body if isinstance(s, ast.FunctionDef)]
    assert defs == ["__init__"] + c["methods"], (defs, c["methods"])
    assigned = [s.targets[0].id for s in cls.body if isinstance(s, ast.Assign)]
    assert assigned == ["TENSORS", "STEPS", "PIPELINES"], assigned
    tensors = [t[0] for t in ast.literal_eval(next(s.value for s in cls.body if isinstance(s, ast.Assign) and s.targets[0].id == "TENSORS"))]
    assert tensors == c["tensors"], "tensor names changed"
    sys.path.insert(0, c["folder"])
    for name in ["model", "repr_runtime"]:
        sys.modules.pop(name, None)
    model = importlib.import_module("model")
    m = getattr(model, c["className"])(1)
    assert list(m.state_dict().keys()) == c["tensors"], "state_dict keys"
    out = getattr(m, c["encode"])(torch.rand(2, 1, 28, 28))
    assert tuple(out.shape) == (2, 32), out.shape
    sys.path.pop(0)
print("ok", len(cases))
`;
    const r = spawnSync(PYTHON, ["-c", script, join(dir, "py-cases.json")], { encoding: "utf8", timeout: 300_000 });
    expect(r.stderr + r.stdout).toContain(`ok ${RUNS}`);
  }, 300_000);

  it("PyTorch: a tensor name no state_dict key can be is refused, naming it", () => {
    for (const [bad, why] of [["a..b", "an empty segment"], ["f.training", "the segment 'training', an attribute of nn.Module"], ["_x.w", "a segment starting with '_'"]] as const) {
      const plan = { ...base, tensors: [...base.tensors, { name: bad, dtype: "f32" as const, shape: [1], owner: "f" }] };
      expect(() => describePytorch([plan])).toThrow(PytorchExportError);
      expect(() => describePytorch([plan])).toThrow(why);
    }
  });

  it.skipIf(onnx !== null)(`ONNX: safe distinct file names, names and docs carried, and each function runs${onnx ? ` (skipped: ${onnx})` : ""}`, async () => {
    const [protobuf, ort] = [await loadProtobuf(), await loadOrt()];
    const ModelProto = (protobuf as unknown as { Root: { fromJSON(j: unknown): { lookupType(n: string): { decode(b: Uint8Array): unknown } } } }).Root.fromJSON(ONNX_SCHEMA).lookupType("onnx.ModelProto");
    // NUL ends a name in ONNX Runtime's C API and UTF-8 cannot hold a lone surrogate, so export refuses
    // such input and tensor names (below); here they are spelled ␀ and U+FFFD. Docs keep theirs.
    const clean = (x: string): string => wellFormed(x.replaceAll("\0", "␀"));
    const samples = fc.sample(names, { numRuns: RUNS, seed: 7 }).map((n) => ({ ...n, input: clean(n.input), segments: [...new Set(n.segments.map(clean))] }));
    for (const n of samples) {
      const { plan } = rename(n);
      const files = printOnnx(protobuf, describeOnnx(plan, { training: true }), "test");
      const fileNames = files.map(([f]) => f);
      expect(new Set(fileNames.map((f) => f.toLowerCase())).size).toBe(fileNames.length);
      for (const f of fileNames) expect(f).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]*\.onnx$/);
      const [, first] = files[0]!;
      const decoded = ModelProto.decode(first) as { doc_string: string; metadata_props: { key: string; value: string }[]; graph: { input: { name: string }[] } };
      expect(decoded.doc_string).toBe(wellFormed(n.doc));
      expect(decoded.graph.input[0]!.name).toBe(n.input);
      expect(decoded.metadata_props.find((p) => p.key === "repr.model")!.value).toBe(wellFormed(n.model));
      const session = await ort.InferenceSession.create(first, sessionOptions({}));
      const feeds: Record<string, unknown> = {};
      for (const i of decoded.graph.input) {
        const t = plan.tensors.find((x) => x.name === i.name);
        const shape = t ? t.shape : [2, 1, 28, 28];
        feeds[i.name] = new ort.Tensor("float32", new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.25), shape);
      }
      const result = (await session.run(feeds as never)) as Record<string, { dims: readonly number[] }>;
      expect(result["output"]!.dims).toEqual([2, 32]);
      await session.release();
    }
    const nul = rename({ model: "m", doc: "", fns: ["a", "b", "c"], input: "im\0age", segments: ["s", "t"], pipeline: "p", data: "d" }).plan;
    expect(() => describeOnnx(nul)).toThrow("the name \"im\\u0000age\" holds a NUL character, which ends a name in ONNX Runtime's C API");
    const lone = rename({ model: "m", doc: "", fns: ["a", "b", "c"], input: "im\uD800age", segments: ["s", "t"], pipeline: "p", data: "d" }).plan;
    expect(() => describeOnnx(lone)).toThrow("holds a lone surrogate, which UTF-8 (ONNX's strings) cannot hold");
  }, 300_000);
});
