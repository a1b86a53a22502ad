/**
 * Names people bring from other languages, and what repr writes instead:
 * `True` is `true`, `float` is `f32`. An unknown name that is one of them gets
 * a help line with the fix (spec/names.md).
 */

const replacements: Readonly<Record<string, { write: string; why: string }>> = {
  True: { write: "true", why: "booleans are written in lower case" },
  TRUE: { write: "true", why: "booleans are written in lower case" },
  False: { write: "false", why: "booleans are written in lower case" },
  FALSE: { write: "false", why: "booleans are written in lower case" },
  float: { write: "f32", why: "the element type of floats is f32" },
  float32: { write: "f32", why: "the element type of floats is f32" },
  double: { write: "f32", why: "the element type of floats is f32" },
  int: { write: "i32", why: "the element type of ints is i32" },
  int32: { write: "i32", why: "the element type of ints is i32" },
  int64: { write: "i32", why: "the element type of ints is i32" },
  long: { write: "i32", why: "the element type of ints is i32" },
  detach: { write: "stop_gradient(x)", why: "the value through which no gradient flows is" },
  stopgradient: { write: "stop_gradient(x)", why: "the value through which no gradient flows is" },
};

/** The help line for an unknown name that another language spells so, or none. */
export function foreignNameHelp(name: string): string[] {
  const r = Object.hasOwn(replacements, name) ? replacements[name]! : null;
  return r ? [`${r.why}: write '${r.write}'`] : [];
}
