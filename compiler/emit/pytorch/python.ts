/**
 * Python spelling for the PyTorch emitter: string literals, numbers and
 * identifiers. Everything from a `.repr` file reaches Python source only
 * through these: strings as pure-ASCII literals (every other character an
 * escape, so no quote, newline or bidirectional control survives), names as
 * identifiers that are not keywords and not nn.Module's own members.
 */

/** A Python string literal holding `text` exactly (lone surrogates included), in printable ASCII. */
export function pyString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ch = text[i]!;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c === 0x0a) out += "\\n";
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) <= 0xdfff) {
      out += `\\U${text.codePointAt(i)!.toString(16).padStart(8, "0")}`;
      i++;
    } else out += c < 0x100 ? `\\x${c.toString(16).padStart(2, "0")}` : `\\u${c.toString(16).padStart(4, "0")}`;
  }
  return out + '"';
}

/**
 * A docstring's literal: as `pyString`, with lone surrogates replaced by
 * U+FFFD (PyTorch's nn.Module refuses a class whose docstring holds one).
 */
export function pyDoc(text: string): string {
  return pyString(text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD"));
}

/** A float as Python source: NaN, ±∞ and −0 included. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'float("nan")';
  if (x === Infinity) return 'float("inf")';
  if (x === -Infinity) return 'float("-inf")';
  if (Object.is(x, -0)) return "-0.0";
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** An integer as Python source. */
export function pyInt(x: number): string {
  if (!Number.isSafeInteger(x)) throw new Error(`internal: ${x} is not an integer`);
  return String(x);
}

/** Python's keywords and the builtins generated code uses. */
const KEYWORDS = new Set(
  "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case type print len range int float dict list tuple super self torch nn math R".split(" "),
);

/** nn.Module's own members: a method with one of these names would break the module. */
const MODULE_MEMBERS = new Set(
  (
    "add_module apply bfloat16 buffers children cpu cuda double dump_patches eval extra_repr float get_buffer get_extra_state get_parameter get_submodule half ipu " +
    "load_state_dict modules named_buffers named_children named_modules named_parameters parameters register_backward_hook register_buffer register_forward_hook " +
    "register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook register_module register_parameter " +
    "requires_grad_ set_extra_state share_memory state_dict to to_empty train training type xpu zero_grad call_super_init reset_parameters tensors"
  ).split(" "),
);

/** `name` as a Python identifier: other characters become `_`, a leading digit gets `_`, and reserved names end in `_`. */
export function pyIdentifier(name: string, reserved: ReadonlySet<string> = MODULE_MEMBERS): string {
  let id = name.replace(/[^A-Za-z0-9_]/g, "_");
  if (id === "" || /^[0-9]/.test(id)) id = `_${id}`;
  if (id.startsWith("__")) id = `m${id}`;
  while (KEYWORDS.has(id) || reserved.has(id) || id.startsWith("_")) id = id.startsWith("_") ? `m${id}` : `${id}_`;
  return id;
}

/** Distinct identifiers for `names`, in order (a clash gets `_2`, `_3`, …). */
export function uniqueIdentifiers(names: readonly string[], taken: Iterable<string> = [], reserved?: ReadonlySet<string>): string[] {
  const used = new Set(taken);
  return names.map((n) => {
    const base = pyIdentifier(n, reserved);
    let id = base;
    for (let k = 2; used.has(id); k++) id = `${base}_${k}`;
    used.add(id);
    return id;
  });
}

/** nn.Module's own attributes (PyTorch 1.13, and what later versions add): no submodule or tensor can take these names. */
const NN_MODULE_ATTRIBUTES = new Set(
  (
    "T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda double dump_patches eval extra_repr float forward get_buffer " +
    "get_extra_state get_parameter get_submodule half ipu load_state_dict modules mtia named_buffers named_children named_modules named_parameters parameters " +
    "register_backward_hook register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook " +
    "register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook " +
    "register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu zero_grad " +
    "TENSORS STEPS PIPELINES reset_parameters"
  ).split(" "),
);

/**
 * Why `name` cannot be a state_dict key of nested modules (each dot a level),
 * or null: every segment must be non-empty, not start with `_`, and not be
 * one of nn.Module's own attributes.
 */
export function stateDictProblem(name: string): string | null {
  for (const segment of name.split(".")) {
    if (segment === "") return `the tensor name ${JSON.stringify(name)} has an empty segment between dots`;
    if (segment.startsWith("_")) return `the tensor name ${JSON.stringify(name)} has a segment starting with '_', which nn.Module keeps for itself`;
    if (NN_MODULE_ATTRIBUTES.has(segment)) return `the tensor name ${JSON.stringify(name)} has the segment '${segment}', an attribute of nn.Module`;
  }
  return null;
}
