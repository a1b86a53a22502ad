/**
 * A block's signature: its typed parameters (`hidden: int`, `act: layer =
 * relu`) and its further inputs, which callers pass by name.
 */
import type { BlockDecl, InputDecl, Param } from "../../language/ast.js";
import { messages } from "../../language/diagnostics/messages.js";
import type { ParamSpec, ParamType } from "../builtins/spec.js";
import type { CheckEnv } from "./env.js";
import type { BlockRef } from "./values.js";

/** A block parameter with its declaration. */
export interface BlockParam {
  readonly spec: ParamSpec;
  readonly hasDefault: boolean;
  readonly decl: Param;
}

/** A further input of a data-flow block (`input context`), passed by name. */
export interface BlockInput {
  readonly spec: ParamSpec;
  readonly decl: InputDecl;
}

/** The parameter types a block may declare. */
const paramTypes: Readonly<Record<string, ParamType>> = {
  int: { kind: "int" },
  float: { kind: "float" },
  bool: { kind: "bool" },
  string: { kind: "string" },
  layer: { kind: "layer" },
  list: { kind: "list", item: "any" },
};

/** The statements of a block body, by kind. */
export function blockBody(decl: BlockDecl) {
  return {
    inputs: decl.body.filter((s): s is InputDecl => s.kind === "Input"),
    lets: decl.body.filter((s) => s.kind === "Let"),
    outputs: decl.body.filter((s) => s.kind === "Output"),
    exprs: decl.body.filter((s) => s.kind === "ExprStmt"),
  };
}

/** A block's parameters and further inputs; unknown parameter types are reported once. */
export function blockSpecs(env: CheckEnv, block: BlockRef): { params: BlockParam[]; inputs: BlockInput[] } {
  return env.memo("blockSpecs", block.decl, () => {
    const source = block.module.source;
    const params = block.decl.params.map((p): BlockParam => {
      let type: ParamType = { kind: "any" };
      const expected = Object.keys(paramTypes).join(", ");
      // A parameter without a type is a syntax error the parser reports; it accepts anything here.
      if (p.type === null) {
        type = { kind: "any" };
      } else if (p.type.kind === "Ident" && paramTypes[p.type.name]) {
        type = paramTypes[p.type.name]!;
      } else {
        const name = p.type.kind === "Ident" ? p.type.name : source.slice(p.type.span);
        env.report(messages.unknownParamType, { source, span: p.type.span }, { name, expected }, { notes: env.didYouMean(name, Object.keys(paramTypes)) });
      }
      return { spec: { name: p.name.text, type, doc: "", ...(p.default ? { optional: true } : {}) }, hasDefault: p.default !== null, decl: p };
    });
    const inputs = blockBody(block.decl)
      .inputs.slice(1)
      .map((decl): BlockInput => ({ spec: { name: decl.name.text, type: { kind: "value" }, namedOnly: true, doc: decl.doc ?? "" }, decl }));
    return { params, inputs };
  });
}
