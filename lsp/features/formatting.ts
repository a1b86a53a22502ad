/**
 * Formatting: exactly what `repr fmt` writes (`format` from the language
 * layer), as one edit of the whole document; nothing for a document with
 * syntax errors, which `repr fmt` refuses too.
 */
import type { TextEdit } from "vscode-languageserver";
import { format } from "../../language/format.js";
import type { Document } from "../documents.js";

/** The edits that format a document. */
export function formatDocument(doc: Document): TextEdit[] {
  const { text } = format(doc.asSource);
  if (text === null || text === doc.text) return [];
  return [{ range: doc.lines.range({ start: 0, end: doc.text.length }), newText: text }];
}
