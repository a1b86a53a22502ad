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
