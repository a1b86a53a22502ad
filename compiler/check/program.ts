/**
 * The checked program: what the checker hands to lowering.
 *
 * It is a resolved structure, not syntax: every name is bound, every layer is
 * configured with concrete arguments, every value has a tensor type, and every
 * part knows its input shape, output shape and parameter count. Spans are kept
 * only so later phases can point diagnostics at the source.
 */
import type { Span, PartRole } from "../../language/ast.js";
import type { Source } from "../../language/source.js";
import type { TensorType } from "./types.js";

/** A place in a source file. */
export interface Location {
  readonly source: Source;
  readonly span: Span;
}

/** Index of a node in its graph's `nodes` array. */
export type NodeId = number;

/**
 * A resolved argument: numbers, booleans, strings and identifier enums (as
 * strings), lists of those, a value in the enclosing graph, or a model part.
 */
export type ArgValue =
  | number
  | boolean
  | string
  | readonly ArgValue[]
  | { readonly node: NodeId }
  | { readonly part: string }
  /** A layer passed as an argument (`act: gelu`), described; its use is in the graph. */
  | { readonly layer: string };

/** Arguments by parameter name, defaults filled in. */
export type Args = Readonly<Record<string, ArgValue>>;

/** A configured layer applied to a known input type. */
export type LayerNode = BuiltinLayerNode | SequenceNode | BlockNode | PartRefNode;

interface LayerNodeBase {
  readonly input: TensorType;
  readonly output: TensorType;
  /** Trainable parameters this node owns (a part reference owns none). */
  readonly params: number;
  readonly location: Location;
}

/** A built-in layer or bottleneck (`dense`, `conv2d`, `variational`, ...). */
export interface BuiltinLayerNode extends LayerNodeBase {
  readonly kind: "builtin";
  readonly name: string;
  readonly category: "layer" | "bottleneck";
  readonly args: Args;
  /** Sub-layers: the copies of `repeat`, in order; empty for other layers. */
  readonly children: readonly LayerNode[];
}

/** `a -> b -> c` composed into one layer. */
export interface SequenceNode extends LayerNodeBase {
  readonly kind: "sequence";
  readonly layers: readonly LayerNode[];
  /** Each stage's name (`dense(64) as proj`, spec/paths.md), or null; absent when none has one. */
  readonly names?: readonly (string | null)[];
}

/** A user or standard-library block instantiated with concrete arguments. */
export interface BlockNode extends LayerNodeBase {
  readonly kind: "block";
  readonly name: string;
  readonly args: Args;
  /** The block body: node 0 is its (first) input; `output` is its result. */
  readonly graph: Graph;
  readonly result: NodeId;
  /** A data-flow body's inputs and lets by name, readable from outside by path (spec/paths.md). */
  readonly values?: Readonly<Record<string, NodeId>>;
}

/** Another model part used inside a part or block: shares that part's weights. */
export interface PartRefNode extends LayerNodeBase {
  readonly kind: "part";
  readonly name: string;
}

/** A data-flow graph: a model's computation or a block body. Nodes are in dependency order. */
export interface Graph {
  readonly nodes: readonly GraphNode[];
}

export type GraphNode =
  | InputNode
  | ApplyNode
  | CallNode
  | MaskNode
  | ViewsNode
  | SelectNode
  | BinaryNode
  | NegateNode
  | InnerNode;

interface GraphNodeBase {
  readonly id: NodeId;
  readonly type: TensorType;
  readonly location: Location;
}

/** A model input or a block input. */
export interface InputNode extends GraphNodeBase {
  readonly op: "input";
  readonly name: string;
}

/** A layer applied to a value; `part` names the model part when it is one. */
export interface ApplyNode extends GraphNodeBase {
  readonly op: "apply";
  readonly part: string | null;
  readonly layer: LayerNode;
  readonly input: NodeId;
}

/** A value function (`concat`, `similarity`, `add`) or an objective (`mse`, ...). */
export interface CallNode extends GraphNodeBase {
  readonly op: "call";
  readonly category: "function" | "objective";
  readonly name: string;
  readonly args: Args;
}

/** A mask strategy applied to a value; its fields are read with `select`. */
export interface MaskNode extends GraphNodeBase {
  readonly op: "mask";
  readonly name: string;
  readonly strategy: string;
  readonly args: Args;
  readonly input: NodeId;
  readonly fields: { readonly input: TensorType; readonly target: TensorType; readonly masked: TensorType };
  /** What `input` is when masking is off (adapt and test): e.g. all patches. */
  readonly inference: TensorType;
}

/** Two augmented views of one value; read with `select` (`first`, `second`). */
export interface ViewsNode extends GraphNodeBase {
  readonly op: "views";
  readonly names: readonly [string, string];
  readonly strategy: string;
  readonly args: Args;
  readonly input: NodeId;
}

/** One field of a mask (`input`, `target`, `masked`) or one of two views (`first`, `second`). */
export interface SelectNode extends GraphNodeBase {
  readonly op: "select";
  readonly source: NodeId;
  readonly field: string;
}

/** Elementwise arithmetic on values, or a value scaled by a constant. */
export interface BinaryNode extends GraphNodeBase {
  readonly op: "binary";
  readonly operator: "+" | "-" | "*" | "/";
  readonly left: NodeId | { readonly constant: number };
  readonly right: NodeId | { readonly constant: number };
}

export interface NegateNode extends GraphNodeBase {
  readonly op: "negate";
  readonly input: NodeId;
}

/**
 * A value inside a layer's application, by path (spec/paths.md): the
 * output of the layer at `path` (`f(x).2.1`), or, named by `value`, a
 * block's let (`f(x).2.h`) or attention's weights (`f(x).2.1.weights`).
 */
export interface InnerNode extends GraphNodeBase {
  readonly op: "inner";
  /** The application (an `apply` node) the value is inside. */
  readonly source: NodeId;
  /** The layer's path inside the applied layer: numbers only. */
  readonly path: readonly string[];
  /** A value the layer at `path` names (a block's let or input, attention's `weights`); null for its output. */
  readonly value: string | null;
}

/** A model input, with the data type it expects. */
export interface CheckedInput {
  readonly name: string;
  readonly type: TensorType;
  readonly node: NodeId;
  readonly doc: string | null;
  readonly location: Location;
}

/** A named part of a model with the shapes inferred from its use. */
export interface CheckedPart {
  readonly role: PartRole;
  readonly name: string;
  readonly doc: string | null;
  /** The part configured for its first application; null when it is never applied. */
  readonly layer: LayerNode | null;
  readonly input: TensorType | null;
  readonly output: TensorType | null;
  readonly params: number;
  readonly location: Location;
}

/** A named value of a model (`let code = image -> f`). */
export interface CheckedLet {
  readonly name: string;
  readonly doc: string | null;
  readonly node: NodeId;
  readonly type: TensorType;
}

/** One term of the training objective. */
export interface CheckedLoss {
  readonly name: string;
  readonly doc: string | null;
  /** The scalar the loss evaluates to. */
  readonly node: NodeId;
  /** `on m.masked`: the mask positions it is restricted to (a `select` node), or null. */
  readonly on: NodeId | null;
  /** The objectives it calls (`mse`, `kl`, ...), in order. */
  readonly objectives: readonly string[];
  /** Extra terms bottlenecks add when training through them (`variational` → KL). */
  readonly regularizers: readonly string[];
  readonly location: Location;
}

/**
 * How a model predicts in `adapt` and `test`: its `output`, or the head applied
 * along the encoder (and bottleneck), with masks and views switched off.
 */
export interface Prediction {
  /** The model input the path starts from. */
  readonly input: string;
  /**
   * How the model writes what the first part receives, with masks and views
   * off: `image`, a let, `image -> patchify`, `m.input (masks off)`; `output`
   * for a model with an `output`.
   */
  readonly source: string;
  /** The type the first part receives with masking off (e.g. all patches). */
  readonly inputType: TensorType;
  /** Part names on the path in order, e.g. `["f", "z", "W"]` (for an `output`, the parts it applies). */
  readonly parts: readonly string[];
  /** The `output` node, when the model declares one. */
  readonly output: NodeId | null;
  readonly type: TensorType;
}

/** A model with resolved parts, graph and losses. */
export interface CheckedModel {
  readonly name: string;
  readonly doc: string | null;
  readonly inputs: readonly CheckedInput[];
  readonly parts: readonly CheckedPart[];
  readonly lets: readonly CheckedLet[];
  readonly graph: Graph;
  readonly losses: readonly CheckedLoss[];
  readonly output: NodeId | null;
  /** Named outputs (`output attention = ...`): values the model offers besides its prediction. */
  readonly outputs: readonly CheckedLet[];
  readonly prediction: Prediction | null;
  readonly totalParams: number;
  readonly location: Location;
}

/** One field of a data declaration. */
export interface CheckedField {
  readonly name: string;
  readonly type: TensorType;
  readonly doc: string | null;
}

/** A `data` declaration: the fields a data source must provide. */
export interface CheckedData {
  readonly name: string;
  readonly doc: string | null;
  readonly fields: readonly CheckedField[];
  /** Fields whose type could not be evaluated (already reported): they are absent from `fields`. */
  readonly untyped: readonly string[];
  readonly location: Location;
}

/** `digits.train(per_class: 10)`: a split of a data set with optional selection. */
export interface DataRef {
  readonly data: string;
  readonly split: "train" | "test";
  readonly perClass: number | null;
  /** Labels kept, renumbered 0..n-1 in this order; null keeps all. */
  readonly labels: readonly number[] | null;
  /** The number of classes after selection, when the data has a label field. */
  readonly classes: number | null;
}

/** Resolved settings of a training or test step. */
export interface StepSettings {
  readonly epochs: number | null;
  readonly steps: number | null;
  readonly batch: number | null;
  readonly seed: number | null;
  readonly optimizer: { readonly name: string; readonly args: Args } | null;
  readonly weightDecay: number | null;
  readonly clip: number | null;
  readonly schedule: { readonly name: string; readonly args: Args } | null;
  /** Loss names trained; every loss of the model when the step names none. */
  readonly objectives: readonly string[];
  readonly lrScale: Readonly<Record<string, number>>;
  readonly layerDecay: number | null;
  readonly metrics: readonly { readonly name: string; readonly args: Args }[];
  readonly trainMode: boolean;
}

export type CheckedStep =
  | { readonly kind: "pretrain"; readonly model: string; readonly data: DataRef; readonly settings: StepSettings; readonly trainable: readonly string[]; readonly location: Location }
  | { readonly kind: "freeze" | "unfreeze"; readonly parts: readonly string[]; readonly settings: StepSettings; readonly location: Location }
  | { readonly kind: "replace"; readonly part: string; readonly layer: LayerNode | null; readonly params: number; readonly location: Location }
  | { readonly kind: "adapt"; readonly data: DataRef; readonly settings: StepSettings; readonly trainable: readonly string[]; readonly location: Location }
  | { readonly kind: "test"; readonly data: DataRef; readonly settings: StepSettings; readonly location: Location };

/** A transfer pipeline over one model. */
export interface CheckedPipeline {
  readonly name: string;
  readonly doc: string | null;
  readonly model: string | null;
  readonly steps: readonly CheckedStep[];
  readonly location: Location;
}

/** Everything the entry file and its imports declare, checked. */
export interface CheckedProgram {
  /** Source names of the files loaded, the entry first. */
  readonly files: readonly string[];
  /** Models, data declarations and pipelines of the entry file (imports contribute blocks). */
  readonly models: readonly CheckedModel[];
  readonly data: readonly CheckedData[];
  readonly pipelines: readonly CheckedPipeline[];
}
