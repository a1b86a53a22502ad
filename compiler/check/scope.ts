/**
 * Scopes: what a name means where it is used. A block body or a model sees
 * its own names first, then its file's declarations and imports, then the
 * built-ins. Local names may shadow built-ins (a block parameter `dropout`).
 */
import type { Span } from "../../language/ast.js";
import { builtins } from "../builtins/index.js";
import type { Location } from "./program.js";
import type { ModuleInfo } from "./modules.js";
import { ERROR, type Value } from "./values.js";

/**
 * What a name stands for when an expression cannot use it as a value or a
 * layer: a model, a data declaration, a pipeline, a loss, or a step setting
 * (optimizer, schedule). Such names are not offered as suggestions in
 * expressions.
 */
export type NameSort = "model" | "data" | "pipeline" | "loss" | "setting";

/** What a name is bound to. Values are computed on first use. */
export interface Binding {
  get(at: Span): Value;
  /** Where the name is declared (null for built-ins). */
  readonly location: Location | null;
  /** Set for names an expression cannot use (see `NameSort`). */
  readonly sort?: NameSort;
  /**
   * True for a member that reuses a reserved name (already reported, RC206):
   * it is still the value it declares, but a call of the name reaches what it hides.
   */
  readonly reservedName?: boolean;
}

/** A level of names with a parent level. */
export class Scope {
  private readonly entries = new Map<string, Binding>();
  /** The names of this level by length and by their first three letters (lower case), for suggestions; built on demand. */
  private index: { byLength: Map<number, string[]>; byStart: Map<string, string[]> } | null = null;

  constructor(readonly parent: Scope | null) {}

  /** Binds a name at this level; returns the earlier binding when there is one. */
  define(name: string, binding: Binding): Binding | undefined {
    const earlier = this.entries.get(name);
    if (earlier) return earlier;
    this.entries.set(name, binding);
    this.index = null;
    return undefined;
  }

  /** The binding of a name here or in an enclosing level. */
  lookup(name: string): Binding | undefined {
    for (let scope: Scope | null = this; scope; scope = scope.parent) {
      const found = scope.entries.get(name);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * The names visible here that could be a misspelling of `name` (for
   * suggestions): those whose length is within `slack` of its length, and
   * those that share its first three letters (a name cut short or extended).
   * Each comes from its innermost binding, which must pass `keep`. Names of
   * other lengths are never looked at, so this costs what it yields.
   */
  *near(name: string, slack: number, keep: (binding: Binding) => boolean = () => true): Generator<string> {
    const start = name.length >= 3 ? name.slice(0, 3).toLowerCase() : null;
    const inner: Scope[] = [];
    for (let scope: Scope | null = this; scope; scope = scope.parent) {
      const index = scope.lengthIndex();
      const groups: (readonly string[])[] = [];
      for (let length = Math.max(1, name.length - slack); length <= name.length + slack; length++) groups.push(index.byLength.get(length) ?? []);
      if (start !== null) groups.push(index.byStart.get(start) ?? []);
      for (const group of groups) {
        for (const candidate of group) {
          // A name bound again further in is that inner binding's, already offered (or not) there.
          if (inner.some((s) => s.entries.has(candidate)) || !keep(scope.entries.get(candidate)!)) continue;
          yield candidate;
        }
      }
      inner.push(scope);
    }
  }

  private lengthIndex(): { byLength: Map<number, string[]>; byStart: Map<string, string[]> } {
    if (this.index) return this.index;
    const byLength = new Map<number, string[]>();
    const byStart = new Map<string, string[]>();
    for (const name of this.entries.keys()) {
      let same = byLength.get(name.length);
      if (!same) byLength.set(name.length, (same = []));
      same.push(name);
      if (name.length >= 3) {
        const key = name.slice(0, 3).toLowerCase();
        let group = byStart.get(key);
        if (!group) byStart.set(key, (group = []));
        group.push(name);
      }
    }
    return (this.index = { byLength, byStart });
  }
}

/** A binding to a value known up front. */
export function fixed(value: Value, location: Location | null = null, sort?: NameSort): Binding {
  return { get: () => value, location, ...(sort ? { sort } : {}) };
}

/** A binding computed on first use, whose value can also be settled up front. */
export interface LazyBinding extends Binding {
  /** Fixes the value without computing it (a definition on a cycle already reported stands for the error value). */
  settle(value: Value): void;
}

/**
 * A binding computed on first use. Using it while it is being computed is a
 * cycle: `onCycle` reports it at the use and the use gets the error value.
 */
export function lazy(location: Location | null, compute: () => Value, onCycle: (at: Span) => void): LazyBinding {
  let state: "new" | "busy" | "done" = "new";
  let value: Value = ERROR;
  return {
    location,
    settle(v) {
      state = "done";
      value = v;
    },
    get(at) {
      if (state === "done") return value;
      if (state === "busy") {
        onCycle(at);
        return ERROR;
      }
      state = "busy";
      value = compute();
      state = "done";
      return value;
    },
  };
}

let builtinScope: Scope | null = null;

/** The outermost scope: every built-in by name. */
export function builtinsScope(): Scope {
  if (builtinScope) return builtinScope;
  const scope = new Scope(null);
  for (const def of builtins) {
    if (def.category === "metric" || def.category === "datatype") continue;
    const setting = def.category === "optimizer" || def.category === "schedule";
    scope.define(def.name, fixed({ kind: "builtin", def }, null, setting ? "setting" : undefined));
  }
  builtinScope = scope;
  return scope;
}

const moduleScopes = new WeakMap<ModuleInfo, Scope>();

/** A file's top-level scope: its declarations and imports over the built-ins. */
export function moduleScope(module: ModuleInfo): Scope {
  const cached = moduleScopes.get(module);
  if (cached) return cached;
  const scope = new Scope(builtinsScope());
  for (const [name, top] of module.scope) {
    const location = { source: top.module.source, span: top.decl.name.span };
    const value: Value =
      top.kind === "block"
        ? { kind: "block", block: { decl: top.decl, module: top.module } }
        : top.kind === "model"
          ? { kind: "model", decl: top.decl }
          : top.kind === "data"
            ? { kind: "data", data: top.decl, module: top.module }
            : { kind: "pipeline", decl: top.decl };
    scope.define(name, fixed(value, location, top.kind === "block" ? undefined : top.kind));
  }
  // A name whose import failed (RC205) stands for the error value, so its uses stay quiet.
  for (const name of module.unresolved) {
    if (!module.scope.has(name)) scope.define(name, fixed(ERROR));
  }
  moduleScopes.set(module, scope);
  return scope;
}
