/**
 * The evaluator as the rest of the checker sees it. Evaluation is mutually
 * recursive (an expression makes a call, the call applies a layer, the layer
 * instantiates a block, the block's body is expressions again), so the modules
 * along that loop (calls.ts, bind.ts, apply.ts, blocks.ts) take the evaluator
 * as an argument typed by this interface and call back into it, instead of
 * importing evaluate.ts, which implements it and imports them.
 */
import type { Expr, Span } from "../../language/ast.js";
import type { MessageArgs } from "../../language/diagnostics/diagnostic.js";
import type { MessageTemplate } from "../../language/diagnostics/messages.js";
import type { CheckEnv, ReportExtra, Site } from "./env.js";
import type { GraphBuilder } from "./graph.js";
import type { ModuleInfo } from "./modules.js";
import type { LayerNode, Location, NodeId } from "./program.js";
import type { Scope } from "./scope.js";
import type { TensorType } from "./types.js";
import type { LayerValue, TensorValue, Value } from "./values.js";

/** Built-in kinds that only some places accept. */
export type Allowance = "mask" | "augment" | "bottleneck" | "objective" | "parameters" | "teacher";

/** Where an evaluator works and what it may do there. */
export interface EvalContext {
  readonly module: ModuleInfo;
  readonly scope: Scope;
  /** The graph values are added to; null where there are no values (pipeline settings, types). */
  readonly graph: GraphBuilder | null;
  /** Block instantiations that led here, outermost first. */
  readonly sites: readonly Site[];
  readonly allow: ReadonlySet<Allowance>;
  /** The model member being evaluated (names its mask). */
  readonly memberName?: string;
}

/** Evaluates expressions in one context, reporting every problem it finds (implemented in evaluate.ts). */
export interface Evaluator extends EvalContext {
  readonly env: CheckEnv;
  /** The same evaluator with some context replaced. */
  with(changes: Partial<EvalContext>): Evaluator;
  /** A location in this evaluator's file. */
  loc(span: Span): Location;
  /** Reports a problem at a span of this evaluator's file. */
  report(template: MessageTemplate, span: Span, args?: MessageArgs, extra?: ReportExtra): void;
  /** Reports at a location that may be in another file (a layer defined elsewhere). */
  reportAt(template: MessageTemplate, location: Location, args?: MessageArgs, extra?: ReportExtra): void;
  /** Evaluates an expression. */
  evaluate(e: Expr): Value;
  /** The value of a name, or an error with suggestions. */
  lookup(name: string, span: Span): Value;
  /** Evaluates a data type (`f32[1, 28, 28]`, `label(classes: 10)`); null when a problem was reported. */
  evaluateType(e: Expr, construct: string): TensorType | null;
  /** Evaluates an expression that must be a layer. */
  evaluateLayer(e: Expr): LayerValue | null;
  /** Evaluates an expression that must be a value. */
  evaluateTensor(e: Expr): TensorValue | null;
  /** A layer from a value: configured layers, parts, and built-ins or blocks usable bare. */
  asLayer(v: Value, span: Span): LayerValue | null;
  /** A tensor from a value. */
  asTensor(v: Value, span: Span): TensorValue | null;
  /** A tensor value for a new node. */
  tensor(type: TensorType, node: NodeId, origin: string): TensorValue;
  /** Applies a layer to a value, adding the application to the graph. */
  apply(layer: LayerValue, x: TensorValue, span: Span): TensorValue | null;
}

/** A value's type and how messages name it: what a layer is applied to. */
export interface Typed {
  readonly type: TensorType;
  readonly origin: string;
}

/** The result of applying a layer. */
export interface Applied {
  readonly node: LayerNode;
  readonly output: TensorType;
}
