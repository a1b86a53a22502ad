/**
 * Semantic rules: one rule per file, each with one sentence stating it and the
 * spec section it enforces. All rules run in one traversal of the program,
 * in the order of `rules/index.ts`; each visits the facts it cares about.
 */
import type { LayerTarget, LossDecl, MapEntry, ModelDecl, PipelineDecl, PipelineStep, Span } from "../../../language/ast.js";
import type { MessageArgs } from "../../../language/diagnostics/diagnostic.js";
import type { MessageTemplate } from "../../../language/diagnostics/messages.js";
import type { Source } from "../../../language/source.js";
import type { ReportExtra } from "../env.js";
import type { GraphBuilder } from "../graph.js";
import type { ResolvedTarget } from "../layer-targets.js";
import type { CheckedData, CheckedModel, DataRef, Location, NodeId, StepSettings } from "../program.js";
import type { TensorType } from "../types.js";
import type { MaskValue, PartState, SplitValue, Value } from "../values.js";

/** Reports at a span of the file being checked. */
export type Report = (template: MessageTemplate, span: Span, args?: MessageArgs, extra?: ReportExtra) => void;

/** The "did you mean" note for a misspelt name among candidates, within the run's suggestion budget. */
export type DidYouMean = (name: string, candidates: Iterable<string>) => string[];

/** One evaluated loss. */
export interface LossFacts {
  readonly decl: LossDecl;
  readonly value: Value;
  /** The evaluated `on` expression, or null when there is none. */
  readonly on: Value | null;
}

/** What checking a model established, for model rules. */
export interface ModelFacts {
  /** The values of the model's named outputs, by name. */
  readonly values: ReadonlyMap<string, { readonly node: NodeId; readonly type: TensorType }>;
  readonly decl: ModelDecl;
  /** The file the model is declared in. */
  readonly source: Source;
  readonly parts: ReadonlyMap<string, PartState>;
  readonly masks: ReadonlyMap<string, MaskValue>;
  readonly losses: readonly LossFacts[];
  /** The model's lets with their values. */
  readonly lets: readonly { readonly decl: import("../../../language/ast.js").LetDecl; readonly value: Value }[];
  readonly graph: GraphBuilder;
  /** Parts on the prediction path (encoder, bottleneck, head), in order. */
  readonly predictionParts: readonly string[];
  /** True when evaluating the model reported errors (rules that would only echo them stay quiet). */
  hadErrors(): boolean;
  readonly report: Report;
  readonly didYouMean: DidYouMean;
}

/** The state of a pipeline when a step is visited: the model as the steps so far left it. */
export interface StepFacts {
  readonly pipeline: PipelineDecl;
  /** The file the pipeline is declared in. */
  readonly source: Source;
  readonly step: PipelineStep;
  /** Index of the step in the pipeline. */
  readonly index: number;
  /** The model the pipeline works on, once a pretrain step named one. */
  readonly model: CheckedModel | null;
  readonly modelDecl: ModelDecl | null;
  /** Part roles by name (after replacements). */
  readonly roles: ReadonlyMap<string, string>;
  /** What earlier steps froze: parts, and layers inside them by path (`f.0`). */
  readonly frozen: ReadonlySet<string>;
  /** A freeze or unfreeze step's targets, resolved (null: not a part of the model). */
  readonly targets: ReadonlyMap<LayerTarget, ResolvedTarget | null>;
  /** The data the step reads, evaluated (null for freeze/replace or when it failed). */
  readonly split: SplitValue | null;
  readonly data: CheckedData | null;
  readonly dataRef: DataRef | null;
  readonly settings: StepSettings | null;
  /** The settings as written, by key (for spans). */
  readonly settingEntries: ReadonlyMap<string, MapEntry>;
  /** The type the model predicts now (after replacements), or null when it has no prediction. */
  readonly prediction: TensorType | null;
  /** Parts on the prediction path now. */
  readonly predictionParts: readonly string[];
  /** True when checking the model reported errors: facts derived from it may be incomplete. */
  readonly modelHadErrors: boolean;
  /** True when an earlier `replace` step failed: the head is not the one the pipeline meant. */
  readonly replaceFailed: boolean;
  /** Where the pipeline's model was first pretrained (for related spans). */
  readonly pretrainedAt: Location | null;
  readonly report: Report;
  readonly didYouMean: DidYouMean;
  /** True the first time `key` is asked in this pipeline: a mistake that spans steps is reported at the first. */
  firstTime(key: string): boolean;
}

/** A semantic rule. */
export interface Rule {
  /** Short kebab-case name, the file's name. */
  readonly name: string;
  /** The spec section it enforces. */
  readonly spec: string;
  model?(facts: ModelFacts): void;
  step?(facts: StepFacts): void;
}
