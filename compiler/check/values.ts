/**
 * What expressions evaluate to while checking. These are the checker's own
 * working values; the checked program (program.ts) is built from them.
 */
import type { BlockDecl, DataDecl, ModelDecl, PartDecl, PipelineDecl, Span } from "../../language/ast.js";
import type { Builtin, BoundArgs, LayerDef, MaskFields } from "../builtins/spec.js";
import type { GraphBuilder } from "./graph.js";
import type { LayerNode, Location, NodeId } from "./program.js";
import { describeType, formatType, type TensorType } from "./types.js";
import type { ModuleInfo } from "./modules.js";

/** A tensor value in some graph. */
export interface TensorValue {
  readonly kind: "tensor";
  readonly type: TensorType;
  readonly node: NodeId;
  readonly graph: GraphBuilder;
  /** How messages name it: `input 'image'`, `the bottleneck 'z'`. */
  readonly origin: string;
}

/** A block declaration with the module it lives in. */
export interface BlockRef {
  readonly decl: BlockDecl;
  readonly module: ModuleInfo;
}

/** A named model part as checking goes: its definition and its first application. */
export interface PartState {
  readonly decl: PartDecl;
  readonly location: Location;
  /** The part's layer, evaluated on first use (null when its definition has errors). */
  define(): LayerValue | null;
  /** True while the part is being applied (a part inside its own definition would never end). */
  applying: boolean;
  /** True once something applied the part, even when that failed (a problem already reported). */
  used: boolean;
  first: { readonly input: TensorType; readonly node: LayerNode; readonly location: Location } | null;
}

/** A layer ready to be applied. */
export type LayerValue =
  | {
      readonly kind: "builtin";
      readonly def: LayerDef;
      readonly args: BoundArgs;
      readonly argSpans: ReadonlyMap<string, Span>;
      /** Layers passed as arguments (`repeat`'s layer), indexed by `LayerArg.id`. */
      readonly layerArgs: readonly LayerValue[];
      readonly location: Location;
    }
  | {
      readonly kind: "sequence";
      readonly layers: readonly LayerValue[];
      readonly location: Location;
      /** Each stage's name (`dense(64) as proj`), or null; absent when none has one. */
      readonly names?: readonly (string | null)[];
    }
  | {
      readonly kind: "block";
      readonly block: BlockRef;
      /** Parameter values, defaults filled in. */
      readonly args: ReadonlyMap<string, Value>;
      /** Values for the block's further inputs, by name. */
      readonly inputs: ReadonlyMap<string, TensorValue>;
      readonly location: Location;
    }
  | { readonly kind: "part"; readonly part: PartState; readonly location: Location };

/** A mask declared with `mask m = ...`. */
export interface MaskValue {
  readonly kind: "mask";
  readonly name: string;
  readonly strategy: string;
  readonly node: NodeId;
  readonly graph: GraphBuilder;
  readonly fields: MaskFields;
  readonly args: BoundArgs;
  /** Select nodes already made for `m.input` etc., so each field is one node. */
  readonly selects: Map<string, NodeId>;
}

/** A data set split with its selection: `digits.train(per_class: 10)`. */
export interface SplitValue {
  readonly kind: "split";
  readonly data: DataDecl;
  readonly module: ModuleInfo;
  readonly split: "train" | "test";
  readonly perClass: number | null;
  readonly labels: readonly number[] | null;
}

export type Value =
  | { readonly kind: "number"; readonly value: number; readonly int: boolean }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "string"; readonly value: string }
  /** An identifier taken as itself: an enum value such as `same`. */
  | { readonly kind: "symbol"; readonly name: string }
  | { readonly kind: "list"; readonly items: readonly Value[] }
  | TensorValue
  | { readonly kind: "layer"; readonly layer: LayerValue }
  | { readonly kind: "builtin"; readonly def: Builtin }
  | { readonly kind: "block"; readonly block: BlockRef }
  | MaskValue
  | { readonly kind: "type"; readonly type: TensorType }
  | { readonly kind: "data"; readonly data: DataDecl; readonly module: ModuleInfo }
  | SplitValue
  /** A layer inside a part by path, where a parameter takes one (`tied(f.2)`, spec/paths.md). */
  | { readonly kind: "path"; readonly part: PartState; readonly segments: readonly string[] }
  | { readonly kind: "model"; readonly decl: ModelDecl }
  | { readonly kind: "pipeline"; readonly decl: PipelineDecl }
  | { readonly kind: "map" }
  /** A loss's name: losses are terms of the objective, not values other members may read. */
  | { readonly kind: "loss"; readonly name: string }
  /** Something already reported; checks downstream stay quiet about it. */
  | { readonly kind: "error" };

/** The value that stands for "already reported". */
export const ERROR: Value = { kind: "error" };

/** Describes a value for messages: `2.5`, `a layer`, `input 'image' f32[B, 1, 28, 28]`. */
export function describeValue(v: Value): string {
  switch (v.kind) {
    case "number":
      return `${v.value}${v.int ? "" : " (a float)"}`;
    case "bool":
      return String(v.value);
    case "string":
      return JSON.stringify(v.value);
    case "symbol":
      return `'${v.name}'`;
    case "list":
      return `a list of ${v.items.length}`;
    case "tensor":
      return `${v.origin}, ${describeType(v.type)}`;
    case "layer":
      return v.layer.kind === "part" ? `${v.layer.part.decl.role} '${v.layer.part.decl.name.text}' (a layer)` : "a layer";
    case "builtin":
      return `the built-in ${v.def.category === "dtype" ? "element type" : v.def.category} '${v.def.name}'`;
    case "block":
      return `block '${v.block.decl.name.text}'`;
    case "mask":
      return `mask '${v.name}'`;
    case "type":
      return `the type ${formatType(v.type)}`;
    case "data":
      return `data '${v.data.name.text}'`;
    case "split":
      return `'${v.data.name.text}.${v.split}'`;
    case "path":
      return `the layer '${[v.part.decl.name.text, ...v.segments].join(".")}'`;
    case "model":
      return `model '${v.decl.name.text}'`;
    case "pipeline":
      return `pipeline '${v.decl.name.text}'`;
    case "map":
      return "a map of settings";
    case "loss":
      return `loss '${v.name}' (losses are not values)`;
    case "error":
      return "an invalid value";
  }
}

/** How messages name a layer: `dense`, `block 'mlp'`, `encoder 'f'`. */
export function describeLayer(layer: LayerValue): string {
  switch (layer.kind) {
    case "builtin":
      return layer.def.name;
    case "sequence":
      return layer.layers.map(describeLayer).join(" -> ");
    case "block":
      return `block '${layer.block.decl.name.text}'`;
    case "part":
      return `${layer.part.decl.role} '${layer.part.decl.name.text}'`;
  }
}
