/**
 * Data types written after `input name:` and in data fields:
 * `f32[1, 28, 28]`, `i32[64]`, `label(classes: 10)`, `tokens(length: 64, vocab: 96)`, `token(vocab: 5000)`.
 */
import { POS_INT, num, type DataTypeDef, type ElementTypeDef } from "./spec.js";

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
      { name: "vocab", type: POS_INT, doc: "Vocabulary size." },
    ],
    type: (args) => ({ dtype: "i32", shape: [num(args, "length")], batched: true, vocab: num(args, "vocab") }),
  },
  {
    category: "datatype",
    name: "token",
    doc: "One token id in 0..vocab-1.",
    params: [{ name: "vocab", type: POS_INT, doc: "Vocabulary size." }],
    type: (args) => ({ dtype: "i32", shape: [], batched: true, vocab: num(args, "vocab") }),
  },
];
