/**
 * How built-ins and blocks are shown: signatures with typed parameters and
 * defaults, and their one-line descriptions. A built-in's signature is the
 * heading the spec gives it (`### \`dense(units: int ≥ 1, bias: bool = true)\``)
 * when the spec is at hand (it ships in the package), else one made from its
 * parameters.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BlockDecl } from "../../language/ast.js";
import type { Source } from "../../language/source.js";
import type { Builtin, ParamSpec, ParamType } from "../../compiler/builtins/spec.js";
import { categoryNoun } from "../../compiler/builtins/spec.js";

/** A parameter as a signature shows it. */
export interface ParamLabel {
  readonly name: string;
  /** `units: int ≥ 1`, `bias: bool = true`. */
  readonly label: string;
  readonly doc: string;
}

/** A callable's signature: `name(params)`, and each parameter's label. */
export interface Signature {
  readonly label: string;
  readonly params: readonly ParamLabel[];
  readonly doc: string;
}

/** `int ≥ 1`, `float in (0, 1)`, `same | valid`. */
export function formatParamType(t: ParamType): string {
  switch (t.kind) {
    case "int":
    case "float": {
      if (t.min !== undefined && t.max !== undefined) {
        const open = t.kind === "float" ? [t.openMin, t.openMax] : [false, false];
        return `${t.kind} in ${open[0] ? "(" : "["}${t.min}, ${t.max}${open[1] ? ")" : "]"}`;
      }
      if (t.min !== undefined) return `${t.kind} ${t.kind === "float" && t.openMin ? ">" : "≥"} ${t.min}`;
      if (t.max !== undefined) return `${t.kind} ${t.kind === "float" && t.openMax ? "<" : "≤"} ${t.max}`;
      return t.kind;
    }
    case "enum":
      return t.list ? `list of ${t.values.join(" | ")}` : t.values.join(" | ");
    case "axes":
      return "axis | batch | list of them";
    case "tokenId":
      return "token id | pad | mask | cls";
    case "list":
      return t.item === "any" ? "list" : `list of ${t.item}`;
    default:
      return t.kind;
  }
}

/** `1e-3`, `true`, `same`, `[1, 2]`. */
function formatDefault(v: unknown): string {
  return Array.isArray(v) ? `[${v.map(formatDefault).join(", ")}]` : String(v);
}

/** A built-in parameter's label. */
export function paramLabel(p: ParamSpec): string {
  const d = p.default !== undefined && p.default !== null ? ` = ${formatDefault(p.default)}` : "";
  return `${p.name}: ${formatParamType(p.type)}${d}`;
}

let specHeadings: Map<string, { heading: string; file: string }> | null = null;

/** The spec folder: beside the package's `dist/` or the repository's sources. */
function specDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, "spec");
    if (existsSync(join(candidate, "layers.md"))) return candidate;
    dir = dirname(dir);
  }
  return null;
}

/** Every `### \`name(...)\`` heading of the spec, by name. */
function headings(): Map<string, { heading: string; file: string }> {
  if (specHeadings) return specHeadings;
  specHeadings = new Map();
  const dir = specDir();
  if (!dir) return specHeadings;
  for (const f of readdirSync(dir).filter((x) => x.endsWith(".md")).sort()) {
    for (const m of readFileSync(join(dir, f), "utf8").matchAll(/^###\s+`([A-Za-z_][A-Za-z0-9_]*)(\([^`]*\))?`/gm)) {
      if (!specHeadings.has(m[1]!)) specHeadings.set(m[1]!, { heading: `${m[1]}${m[2] ?? ""}`, file: f });
    }
  }
  return specHeadings;
}

/** A built-in's signature and description. */
export function builtinSignature(b: Builtin): Signature {
  const params = b.params.map((p) => ({ name: p.name, label: paramLabel(p), doc: p.doc }));
  const fromSpec = headings().get(b.name)?.heading;
  const made = `${b.name}(${params.map((p) => p.label).join(", ")})`;
  // The spec's heading, when it lists the same parameters (a metric and an objective may share a name).
  const usable = fromSpec && b.params.every((p) => fromSpec.includes(`${p.name}:`) || fromSpec.includes(`${p.name},`) || fromSpec.includes(`${p.name})`));
  return { label: usable ? fromSpec : made, params, doc: b.doc };
}

/** Where the spec describes a built-in (`layers.md`), if it does. */
export function specFileOf(b: Builtin): string | null {
  return headings().get(b.name)?.file ?? null;
}

/** What kind of built-in it is: `layer`, `mask strategy`, ... */
export function builtinNoun(b: Builtin): string {
  return categoryNoun[b.category];
}

/** A block's signature as written, and its `///` doc. */
export function blockSignature(decl: BlockDecl, source: Source): Signature {
  const params = decl.params.map((p) => ({ name: p.name.text, label: source.slice(p.span).replace(/\s+/g, " "), doc: "" }));
  return { label: `${decl.name.text}(${params.map((p) => p.label).join(", ")})`, params, doc: decl.doc ?? "" };
}
