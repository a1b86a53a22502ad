/**
 * Prints a `ModuleDescription` as TypeScript with ts-morph's structures. It
 * decides nothing: names, types and doc text come decided; user text enters
 * code only through `stringLiteral` and docs only as the description's
 * comment-safe lines.
 */
import {
  type ClassDeclarationStructure,
  type CodeBlockWriter,
  type MethodDeclarationStructure,
  type OptionalKind,
  type PropertyDeclarationStructure,
  type VariableStatementStructure,
  IndentationText,
  NewLineKind,
  Project,
  QuoteKind,
  Scope,
  StructureKind,
  VariableDeclarationKind,
} from "ts-morph";
import type { PlanInput } from "../../runtime/api/plan.js";
import type { ClassDescription, DocDescription, MethodDescription, ModuleDescription, TrainingMethod } from "./describe.js";
import { numberLiteral, stringLiteral } from "./literals.js";
import { isIdentifierName } from "./names.js";

type Writer = (writer: CodeBlockWriter) => void;

/** A property name: bare when it is an identifier name, else a string literal; `__proto__` always computed, since a literal `__proto__` key sets the prototype instead. */
function propertyName(key: string): string {
  if (key === "__proto__") return `[${stringLiteral(key)}]`;
  return isIdentifierName(key) ? key : stringLiteral(key);
}

/**
 * A doc comment's text, tags included, as one string: ts-morph writes it
 * inside the comment as it is. (Its tag printer would first write the text
 * on a fresh writer that takes quotes and comment openers in it for code.)
 */
function jsDoc(doc: DocDescription): string {
  return [
    ...doc.lines,
    ...doc.params.map((p) => `@param ${p.name} - ${p.text}`),
    ...(doc.returns !== null ? [`@returns ${doc.returns}`] : []),
  ].join("\n");
}

const docOf = (lines: readonly string[], params: DocDescription["params"] = [], returns: string | null = null): string =>
  jsDoc({ lines, params, returns });

/** A union of string literal types (`never` when empty). */
function literalUnion(names: readonly string[]): string {
  return names.length === 0 ? "never" : [...new Set(names)].map((n) => stringLiteral(n)).join(" | ");
}

function inputLiteral(input: PlanInput): Writer {
  return (w) => {
    w.write(`{ name: ${stringLiteral(input.name)}, dtype: ${stringLiteral(input.dtype)}, shape: [${input.shape.map(numberLiteral).join(", ")}]`);
    if (input.classes !== undefined) w.write(`, classes: ${numberLiteral(input.classes)}`);
    if (input.vocab !== undefined) w.write(`, vocab: ${numberLiteral(input.vocab)}`);
    w.write(" }");
  };
}

/** A module-level constant holding an array literal, one element per line, `as const`. */
function constArray<T>(name: string, doc: string, items: readonly T[], item: (x: T) => Writer): Writer {
  return (w) => {
    w.blankLineIfLastNot().writeLine(`/** ${doc} */`).write(`const ${name} = [`);
    if (items.length > 0) {
      w.indent(() => {
        for (const x of items) {
          item(x)(w);
          w.write(",").newLine();
        }
      });
    }
    w.write("] as const;");
  };
}

/** The type of a batch or data set: one typed array per input, by input name. */
function batchType(fields: TrainingMethod["batch"]): string {
  return `{ ${fields.map((f) => `readonly ${propertyName(f.key)}: ${f.type}`).join("; ")} }`;
}

function method(m: MethodDescription, d: ClassDescription): OptionalKind<MethodDeclarationStructure> {
  const base = { name: m.name, docs: [jsDoc(m.doc)] };
  const step = stringLiteral(m.kind === "call" ? m.fn : m.kind === "pipeline" ? m.pipeline : m.kind === "sample" ? "" : m.step);
  switch (m.kind) {
    case "sample":
      return {
        ...base,
        parameters: [{ name: "options", type: "SampleOptions", hasQuestionToken: true }],
        returnType: `Promise<${m.returns}>`,
        statements: (w) => w.write(`return this.#model.sample(options) as Promise<${m.returns}>;`),
      };
    case "pipeline":
      return {
        ...base,
        isStatic: true,
        isAsync: true,
        parameters: [{ name: "options", type: "PipelineRunOptions & { readonly backend?: BackendChoice }" }],
        returnType: `Promise<{ readonly kind: "done"; readonly history: RunHistory; readonly model: ${d.className} } | { readonly kind: "stopped"; readonly history: RunHistory; readonly state: RunState }>`,
        statements: (w) => {
          w.writeLine(`const pipeline = await Pipeline.create(${d.planName}, ${step}, { backend: options.backend ?? "auto" });`);
          w.writeLine("const result = await pipeline.run(options);");
          w.write(`return result.kind === "done" ? { kind: "done", history: result.history, model: new ${d.className}(result.model) } : result;`);
        },
      };
    case "call":
      return {
        ...base,
        parameters: [...m.params.map((p) => ({ name: p.name, type: p.type })), { name: "count", type: "number", hasQuestionToken: true }],
        returnType: `Promise<${m.returns}>`,
        statements: (w) => {
          const fields = m.params.map((p) => (p.key === p.name ? p.name : `${propertyName(p.key)}: ${p.name}`));
          w.write(`return this.#model.call(${step}, { ${fields.join(", ")} }, count) as Promise<${m.returns}>;`);
        },
      };
    case "trainStep":
      return {
        ...base,
        parameters: [{ name: "batch", type: batchType(m.batch) }],
        returnType: "Promise<number>",
        statements: (w) => w.write(`return this.#model.trainStep(${step}, batch);`),
      };
    case "fit":
      return {
        ...base,
        parameters: [
          { name: "data", type: batchType(m.batch) },
          { name: "options", type: "FitOptions", hasQuestionToken: true },
        ],
        returnType: "Promise<FitResult>",
        statements: (w) => w.write(`return this.#model.fit(${step}, data, options);`),
      };
    case "evaluate":
      return {
        ...base,
        parameters: [
          { name: "data", type: batchType(m.batch) },
          { name: "options", type: "{ readonly batch?: number }", hasQuestionToken: true },
        ],
        returnType: "Promise<number>",
        statements: (w) => w.write(`return this.#model.evaluate(${step}, data, options);`),
      };
  }
}

/** The members every generated class has. */
function fixedMethods(d: ClassDescription): OptionalKind<MethodDeclarationStructure>[] {
  const union = literalUnion(d.partNames);
  const parts = union.includes(" | ") ? `(${union})[]` : `${union}[]`;
  const methods: OptionalKind<MethodDeclarationStructure>[] = [
    {
      name: "freeze",
      docs: [docOf(["Stops training the given parts: training steps leave their tensors as they are."], [{ name: "parts", text: "part names" }])],
      parameters: [{ name: "parts", type: parts, isRestParameter: true }],
      returnType: "void",
      statements: ["this.#model.freeze(...parts);"],
    },
    {
      name: "unfreeze",
      docs: [docOf(["Trains the given parts again."], [{ name: "parts", text: "part names" }])],
      parameters: [{ name: "parts", type: parts, isRestParameter: true }],
      returnType: "void",
      statements: ["this.#model.unfreeze(...parts);"],
    },
  ];
  if (d.headNames.length > 0) {
    methods.push({
      name: "replaceHead",
      docs: [
        docOf(
          ["Gives a head fresh initial values, for a new task."],
          [
            { name: "part", text: "the head" },
            { name: "seed", text: "the seed of its initial values" },
          ],
        ),
      ],
      parameters: [
        { name: "part", type: literalUnion(d.headNames) },
        { name: "seed", type: "number", hasQuestionToken: true },
      ],
      returnType: "Promise<void>",
      statements: ["return this.#model.replaceHead(part, seed);"],
    });
  }
  methods.push(
    {
      name: "tensor",
      docs: [docOf(["A copy of one of the model's tensors (weights, running statistics), once the operations asked for before have run."], [{ name: "name", text: "its checkpoint name, one of `tensorNames`" }])],
      parameters: [{ name: "name", type: "string" }],
      returnType: "Promise<TensorCopy>",
      statements: ["return this.#model.tensor(name);"],
    },
    {
      name: "save",
      docs: [docOf(["The model's tensors as safetensors bytes, once the operations asked for before have run."])],
      returnType: "Promise<Uint8Array>",
      statements: ["return this.#model.save();"],
    },
    {
      name: "load",
      docs: [docOf(["Replaces the model's tensors with saved ones."], [{ name: "weights", text: "what `save` returned, or tensors by name" }])],
      parameters: [{ name: "weights", type: "Weights" }],
      returnType: "Promise<void>",
      statements: ["return this.#model.load(weights);"],
    },
    {
      name: "dispose",
      docs: [docOf(["Frees what the model holds on its backend; the model cannot be used after."])],
      returnType: "void",
      statements: ["this.#model.dispose();"],
    },
    {
      name: "[Symbol.dispose]",
      docs: [docOf(["Disposes the model (for `using`)."])],
      returnType: "void",
      statements: ["this.#model.dispose();"],
    },
  );
  return methods;
}

const PARTS_DOC = "The model's parts and their roles.";
const INPUTS_DOC = "The inputs the model's functions and training steps take, with the shape of one example.";

function classStructure(d: ClassDescription): ClassDeclarationStructure {
  const properties: OptionalKind<PropertyDeclarationStructure>[] = [
    { name: "plan", isStatic: true, isReadonly: true, docs: [docOf(["The compiled model this class runs."])], type: "ModelPlan", initializer: d.planName },
    { name: "parts", isStatic: true, isReadonly: true, docs: [docOf([PARTS_DOC])], initializer: d.partsName },
    { name: "inputs", isStatic: true, isReadonly: true, docs: [docOf([INPUTS_DOC])], initializer: d.inputsName },
    { name: "#model", isReadonly: true, type: "Model" },
  ];
  const getters = [
    {
      name: "backend",
      docs: [docOf(["The backend the model runs on: `webgpu`, `cpu` or `reference`."])],
      returnType: "string",
      statements: ["return this.#model.backend;"],
    },
    {
      name: "tensorNames",
      docs: [docOf(["The names of the model's tensors, as checkpoints name them."])],
      returnType: "readonly string[]",
      statements: ["return this.#model.tensorNames;"],
    },
    {
      name: "model",
      docs: [docOf(["The runtime's `Model` under this class (for `saveModel` and other runtime functions)."])],
      returnType: "Model",
      statements: ["return this.#model;"],
    },
  ];
  return {
    kind: StructureKind.Class,
    name: d.className,
    isExported: true,
    docs: [docOf(d.classDoc)],
    properties,
    getAccessors: getters,
    ctors: [{ scope: Scope.Private, parameters: [{ name: "model", type: "Model" }], statements: ["this.#model = model;"] }],
    methods: [
      {
        name: "create",
        isStatic: true,
        isAsync: true,
        docs: [docOf(["Creates the model on a backend, with its initial values or the given weights."], [{ name: "options", text: "backend, weights and seed" }])],
        parameters: [{ name: "options", type: "ModelOptions", hasQuestionToken: true }],
        returnType: `Promise<${d.className}>`,
        statements: [`return new ${d.className}(await Model.create(${d.planName}, options));`],
      },
      {
        name: "fromModel",
        isStatic: true,
        docs: [docOf(["Wraps a runtime `Model` of this class's plan (what `loadModel` from `repr/runtime/node` makes)."], [{ name: "model", text: "a model made from this class's `plan`" }])],
        parameters: [{ name: "model", type: "Model" }],
        returnType: d.className,
        statements: [`if (model.plan.model !== ${d.planName}.model) throw new TypeError(\`\${model.plan.model} is not a model of this class\`);`, `return new ${d.className}(model);`],
      },
      ...d.methods.map((m) => method(m, d)),
      ...fixedMethods(d),
    ],
  };
}

/**
 * Where each plan's JSON literal goes. The literals (often megabytes) are put
 * in after printing, since ts-morph's writer and parser take a second per
 * megabyte over them. A placeholder holds NULs, which nothing else in a
 * printed module can: string literals escape them and comments replace them.
 */
const planPlaceholder = (i: number): string => `'\u0000${i}\u0000'`;

/** The statements of one model: its plan, parts and inputs constants, and its class. */
function modelStatements(d: ClassDescription, i: number): (Writer | VariableStatementStructure | ClassDeclarationStructure)[] {
  return [
    {
      kind: StructureKind.VariableStatement,
      declarationKind: VariableDeclarationKind.Const,
      docs: [docOf(["The compiled model: kernel graphs, shapes and names."])],
      declarations: [{ name: d.planName, type: "ModelPlan", initializer: `planFromJson(${planPlaceholder(i)})` }],
    },
    constArray(d.partsName, PARTS_DOC, d.parts, (p) => (w) => w.write(`{ name: ${stringLiteral(p.name)}, role: ${stringLiteral(p.role)} }`)),
    constArray(d.inputsName, INPUTS_DOC, d.inputs, inputLiteral),
    classStructure(d),
  ];
}

let project: Project | undefined;

/** The module text for `d`. */
export function printModule(d: ModuleDescription): string {
  project ??= new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: { indentationText: IndentationText.TwoSpaces, newLineKind: NewLineKind.LineFeed, quoteKind: QuoteKind.Double },
  });
  const file = project.createSourceFile(
    "module.ts",
    {
      leadingTrivia: (w) => w.write(`// ${d.header}`).newLine().newLine(),
      statements: [
        (w) =>
          w
            .write(`import { ${["Model", ...(d.runtimeTypes.includes("PipelineRunOptions") ? ["Pipeline"] : []), "planFromJson", ...d.runtimeTypes.map((t) => `type ${t}`)].join(", ")} }`)
            .write(` from ${stringLiteral(d.runtimeImport)};`)
            .blankLine(),
        ...d.classes.flatMap(modelStatements),
      ],
    },
    { overwrite: true },
  );
  let text = file.getFullText();
  project.removeSourceFile(file);
  d.classes.forEach((c, i) => {
    const parts = text.split(planPlaceholder(i));
    if (parts.length !== 2) throw new Error("internal error: a plan placeholder is not in the printed module exactly once");
    text = parts[0]! + stringLiteral(c.planJson, "'") + parts[1]!;
  });
  return text;
}
