/**
 * What is checked of every block at its declaration, used or not: parameter
 * types, the body's form, declared names, that every name in the body
 * resolves, that defaults have their parameter's type, and that no block uses
 * itself, directly or through others. Shapes need concrete arguments and an
 * input, so they are checked at each use (blocks.ts).
 */
import { forEachChild } from "../../language/visit.js";
import type { BlockDecl, CallExpr, Expr, Ident, Span } from "../../language/ast.js";
import { messages } from "../../language/diagnostics/messages.js";
import { evaluateArg } from "./bind.js";
import { blockBody, blockSpecs } from "./block-params.js";
import { dataTypeByName, reservedBuiltin } from "../builtins/index.js";
import { categoryNoun, SPECIAL_TOKENS } from "../builtins/spec.js";
import type { CheckEnv } from "./env.js";
import { ExpressionEvaluator } from "./evaluate.js";
import type { ModuleInfo } from "./modules.js";
import { Scope, fixed, moduleScope } from "./scope.js";
import { editThreshold } from "./suggest.js";
import { foreignNameHelp } from "./foreign-names.js";
import { ERROR, type BlockRef } from "./values.js";

/** A use of a block inside another block's declaration. */
interface BlockUse {
  readonly block: BlockRef;
  /** The call (`mlp(hidden: 4)`) or the bare name (`-> residual`). */
  readonly span: Span;
}

/** Checks every block of every loaded file at its declaration. */
export function checkBlockDecls(env: CheckEnv, modules: readonly ModuleInfo[]): void {
  const uses = new Map<BlockDecl, { block: BlockRef; uses: BlockUse[] }>();
  for (const module of modules) {
    for (const item of module.ast.items) {
      if (item.kind !== "Block") continue;
      const block = { decl: item, module };
      checkForm(env, block);
      uses.set(item, { block, uses: checkNames(env, block) });
    }
  }
  findRecursion(env, uses);
}

/** Parameter types, and the body's form: one layer expression, or inputs, lets and one output. */
function checkForm(env: CheckEnv, block: BlockRef): void {
  blockSpecs(env, block);
  const { decl, module } = block;
  const { inputs, lets, outputs, exprs } = blockBody(decl);
  const name = decl.name.text;
  const source = module.source;
  if (exprs.length > 1 || (exprs.length > 0 && inputs.length + lets.length + outputs.length > 0)) {
    const second = exprs.length > 1 && inputs.length === 0 ? exprs[1]! : null;
    // `dense(n) gelu` on one line is a missing '->', not a second statement.
    const gap = second ? source.text.slice(exprs[0]!.span.end, second.span.start) : "\n";
    const help = second && !/[\n\r]/.test(gap) ? [`layers are joined with '->': write '${source.slice(exprs[0]!.span)} -> ${source.slice(second.span)}'`] : [];
    env.report(messages.blockBody, { source, span: (second ?? exprs[0]!).span }, { name }, { help });
  } else if (exprs.length === 0 && outputs.length === 0) {
    env.report(messages.blockWithoutOutput, { source, span: decl.name.span }, { name });
  }
  if (outputs.length > 1) env.report(messages.outputCount, { source, span: outputs[1]!.span }, { construct: `block '${name}'` });
  // A block has one result; its other values are read by path from outside (spec/paths.md).
  for (const o of outputs) {
    if (o.name) env.report(messages.namedBlockOutput, { source, span: o.name.span }, { name: o.name.text, block: name }, { help: [`write 'let ${o.name.text} = ...': a block's lets are read from outside as f(x).<stage>.${o.name.text}`] });
  }
  if (outputs.length > 0 && inputs.length === 0) {
    env.report(messages.blockBody, { source, span: outputs[0]!.span }, { name });
  }
  const seen = new Map<string, { span: Span }>();
  for (const p of decl.params) seen.set(p.name.text, p.name);
  for (const stmt of [...inputs, ...lets]) {
    const builtin = reservedBuiltin(stmt.name.text);
    if (builtin) {
      env.report(messages.shadowsBuiltin, { source, span: stmt.name.span }, { name: stmt.name.text, category: `built-in ${categoryNoun[builtin.category]}` });
      continue;
    }
    const first = seen.get(stmt.name.text);
    if (first) {
      env.report(messages.duplicateDefinition, { source, span: stmt.name.span }, { name: stmt.name.text, scope: "block" }, {
        related: [{ source, span: first.span, message: "first defined here" }],
      });
    } else seen.set(stmt.name.text, stmt.name);
  }
}

/**
 * Every name in the body must be a parameter, an input or let of the block, a
 * declaration of the file or a built-in. A default that uses no parameter is
 * evaluated here against its parameter's type; one that uses earlier
 * parameters can only be evaluated at a use, so only its names are checked.
 * Returns the blocks the declaration uses.
 */
function checkNames(env: CheckEnv, block: BlockRef): BlockUse[] {
  const { decl, module } = block;
  const uses: BlockUse[] = [];
  const outer = moduleScope(module);
  const ev = new ExpressionEvaluator(env, { module, scope: outer, graph: null, allow: new Set(["parameters"]) });
  const specs = blockSpecs(env, block).params;
  const paramNames = new Set(decl.params.map((p) => p.name.text));

  // Defaults see the parameters before them.
  const early = new Scope(outer);
  specs.forEach((p) => {
    const value = p.decl.default;
    if (value && mentions(value, paramNames)) resolveNames(ev.with({ scope: early }), value, uses);
    else if (value) {
      evaluateArg(ev, `block '${decl.name.text}'`, p.spec, value);
      collectBlockUses(ev, value, uses);
    }
    early.define(p.spec.name, fixed(ERROR));
  });

  // The body sees every parameter, input and let.
  const local = new Scope(outer);
  for (const p of decl.params) local.define(p.name.text, fixed(ERROR));
  for (const stmt of decl.body) if (stmt.kind === "Input" || stmt.kind === "Let") local.define(stmt.name.text, fixed(ERROR));
  const body = ev.with({ scope: local });
  for (const stmt of decl.body) {
    if (stmt.kind === "Input") {
      if (stmt.type) resolveType(body, stmt.type, uses);
    } else resolveNames(body, stmt.value, uses);
  }
  return uses;
}

/** True when an expression names one of `names`. */
function mentions(e: Expr, names: ReadonlySet<string>): boolean {
  let found = false;
  visitIdents(e, (id) => {
    if (names.has(id.name)) found = true;
  });
  return found;
}

/** A type in a block input: data type names (`label`, `tokens`) are types there. */
function resolveType(ev: ExpressionEvaluator, type: Expr, uses: BlockUse[]): void {
  if (type.kind === "Call" && type.callee.kind === "Ident" && dataTypeByName(type.callee.name)) {
    for (const arg of type.args) resolveNames(ev, arg.value, uses);
  } else resolveNames(ev, type, uses);
}

/** Reports names that resolve to nothing (RC201, or RC308 for a bare enum value) and records block uses. */
function resolveNames(ev: ExpressionEvaluator, e: Expr, uses: BlockUse[]): void {
  visitIdents(e, (id, call, enumValues) => {
    const binding = ev.scope.lookup(id.name);
    if (!binding && ev.module.wildcardFailed) return;
    if (!binding) {
      if (enumValues) {
        if (enumValues.values.includes(id.name)) return;
        ev.report(messages.unknownEnumValue, id.span, { name: enumValues.param, callee: enumValues.callee, expected: enumValues.values.join(" | "), actual: id.name }, {
          notes: ev.env.didYouMean(id.name, enumValues.values),
        });
        return;
      }
      ev.report(messages.unknownName, id.span, { name: id.name }, {
        notes: ev.env.didYouMean(id.name, ev.scope.near(id.name, editThreshold(id.name.length), (b) => b.sort === undefined)),
        help: foreignNameHelp(id.name),
      });
      return;
    }
    const v = binding.get(id.span);
    if (v.kind === "block") uses.push({ block: v.block, span: call?.span ?? id.span });
  }, ev.scope);
}

/** Records the blocks an (already evaluated) default uses. */
function collectBlockUses(ev: ExpressionEvaluator, e: Expr, uses: BlockUse[]): void {
  visitIdents(e, (id, call) => {
    const v = ev.scope.lookup(id.name)?.get(id.span);
    if (v?.kind === "block") uses.push({ block: v.block, span: call?.span ?? id.span });
  });
}

/** The allowed values of an enum parameter an identifier is passed to. */
interface EnumSlot {
  readonly callee: string;
  readonly param: string;
  readonly values: readonly string[];
}

/**
 * Calls `visit` for every identifier that names something: not member names,
 * argument names or map keys. An identifier that is the callee of a call comes
 * with the call; one passed to an enum parameter of a built-in (`padding:
 * same`) comes with that parameter's values.
 */
function visitIdents(e: Expr, visit: (id: Ident, call: CallExpr | null, enumSlot: EnumSlot | null) => void, scope?: Scope): void {
  const walk = (x: Expr): void => {
    switch (x.kind) {
      case "Ident":
        visit(x, null, null);
        return;
      case "Call": {
        if (x.callee.kind === "Ident") visit(x.callee, x, null);
        else walk(x.callee);
        const callee = x.callee.kind === "Ident" ? scope?.lookup(x.callee.name)?.get(x.callee.span) : undefined;
        const params = callee?.kind === "builtin" ? callee.def.params : [];
        const positional = params.filter((p) => !p.namedOnly);
        let index = 0;
        for (const arg of x.args) {
          const param = arg.name ? params.find((p) => p.name === arg.name!.text) : positional[index];
          if (!arg.name && !param?.variadic) index++;
          if (param?.type.kind === "enum" && arg.value.kind === "Ident" && callee?.kind === "builtin") {
            visit(arg.value, null, { callee: callee.def.name, param: param.name, values: param.type.values });
          } else if (param?.type.kind === "axes" || param?.type.kind === "tokenId" || (param?.type.kind === "enum" && param.type.list)) {
            // Bare names these take: `batch` among axes, a special token, or a list of enum values.
            const bare = param.type.kind === "axes" ? ["batch"] : param.type.kind === "tokenId" ? SPECIAL_TOKENS : param.type.values;
            const items = arg.value.kind === "List" ? arg.value.items : [arg.value];
            items.filter((i) => i.kind !== "Ident" || !bare.includes(i.name)).forEach(walk);
          } else walk(arg.value);
        }
        return;
      }
      default:
        forEachChild(x, walk);
        return;
    }
  };
  walk(e);
}

/**
 * A block that uses itself, directly or through other blocks, never ends
 * (RC212). Each cycle is reported once, at the use that closes it; the blocks
 * on it are remembered so their uses in models do not report it again.
 */
function findRecursion(env: CheckEnv, graph: ReadonlyMap<BlockDecl, { block: BlockRef; uses: BlockUse[] }>): void {
  const state = new Map<BlockDecl, "open" | "done">();
  // Depth first with an explicit stack (a chain of thousands of blocks must not exhaust the call stack):
  // each entry is an open block and the index of the next use to follow.
  const stack: { decl: BlockDecl; next: number }[] = [];
  const open = (decl: BlockDecl): void => {
    state.set(decl, "open");
    stack.push({ decl, next: 0 });
  };
  for (const root of graph.keys()) {
    if (state.has(root)) continue;
    open(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const node = graph.get(top.decl);
      const use = node?.uses[top.next++];
      if (!use) {
        stack.pop();
        state.set(top.decl, "done");
        continue;
      }
      const target = use.block.decl;
      const s = state.get(target);
      if (s === undefined) {
        open(target);
        continue;
      }
      if (s === "done") continue;
      const cycle = stack.slice(stack.findIndex((e) => e.decl === target)).map((e) => e.decl);
      cycle.forEach((d) => env.recursiveBlocks.add(d));
      env.report(messages.recursiveBlock, { source: node!.block.module.source, span: use.span }, { name: target.name.text }, {
        notes: cycle.length > 1 ? [describeBlockCycle([...cycle, target].map((d) => d.name.text))] : [],
      });
    }
  }
}

/** `the cycle: a -> b -> a`, shortened in the middle when long. */
function describeBlockCycle(names: readonly string[]): string {
  const shown = names.length > 8 ? [...names.slice(0, 3), "…", ...names.slice(-3)] : names;
  return `the cycle: ${shown.join(" -> ")}`;
}
