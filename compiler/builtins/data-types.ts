/**
 * Data types written after `input name:` and in data fields:
 * `f32[1, 28, 28]`, `i32[64]`, `label(classes: 10)`, `tokens(length: 64, vocab: 96)`, `token(vocab: 5000)`.
 */
import { messages } from "../../language/diagnostics/messages.js";
import { POS_INT, SPECIAL_TOKENS, fail, num, type BoundArgs, type DataTypeDef, type ElementTypeDef, type ParamSpec } from "./spec.js";

/** Reserved special tokens: the vocabulary's last ids, in the order written (spec/data.md, "Special tokens"). */
const specialParam: ParamSpec = {
  name: "special",
  type: { kind: "enum", values: SPECIAL_TOKENS, list: true },
  default: [],
  doc: "Special tokens to reserve (pad, mask, cls): the vocabulary's last ids, in this order; no corpus token gets them.",
};

const specials = (args: BoundArgs): readonly string[] => (args["special"] as readonly string[] | null) ?? [];

/** The type's vocabulary must leave an id for at least one real token besides the special ones. */
const checkVocab = (callee: string) => (args: BoundArgs) => {
  const k = specials(args).length;
  if (k === 0 || num(args, "vocab") > k) return null;
  return fail(messages.argumentOutOfRange, { name: "vocab", callee, expected: `more than its ${k} special token(s)`, actual: num(args, "vocab") }, { arg: "vocab" });
};

/** The vocabulary and special tokens of a token type. */
function tokenType(args: BoundArgs): { vocab: number; special?: readonly string[] } {
  const special = specials(args);
  return { vocab: num(args, "vocab"), ...(special.length > 0 ? { special } : {}) };
}

/** Element types, used with dimensions in brackets. */
export const elementTypes: readonly ElementTypeDef[] = [
  { category: "dtype", name: "f32", doc: "32-bit floats: f32[1, 28, 28].", params: [], dtype: "f32" },
  { category: "dtype", name: "i32", doc: "32-bit integers: i32[64].", params: [], dtype: "i32" },
];

/** Integer types with a meaning. */
export const dataTypes: readonly DataTypeDef[] = [
  {
    category: "datatype",
    name: "label",
    doc: "One class id in 0..classes-1.",
    params: [{ name: "classes", type: { kind: "int", min: 2 }, doc: "Number of classes, >= 2." }],
    type: (args) => ({ dtype: "i32", shape: [], batched: true, classes: num(args, "classes") }),
  },
  {
    category: "datatype",
    name: "tokens",
    doc: "A sequence of `length` token ids in 0..vocab-1.",
    params: [
      { name: "length", type: POS_INT, doc: "Tokens per example." },
      { name: "vocab", type: POS_INT, doc: "Vocabulary size, the special tokens included." },
      specialParam,
    ],
    check: checkVocab("tokens"),
    type: (args) => ({ dtype: "i32", shape: [num(args, "length")], batched: true, ...tokenType(args) }),
  },
  {
    category: "datatype",
    name: "token",
    doc: "One token id in 0..vocab-1.",
    params: [{ name: "vocab", type: POS_INT, doc: "Vocabulary size, the special tokens included." }, specialParam],
    check: checkVocab("token"),
    type: (args) => ({ dtype: "i32", shape: [], batched: true, ...tokenType(args) }),
  },
];
