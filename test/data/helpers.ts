/**
 * Shared pieces of the data tests: declarations, temporary folders, and one
 * `expectDataError` check that a promise fails with a DataError of a given
 * kind whose message names what it must.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, expect } from "vitest";
import { DataError, type DataProblem } from "../../runtime/data/errors.js";
import type { DataSpec, FieldSpec } from "../../runtime/data/spec.js";

export const f32 = (name: string, shape: number[]): FieldSpec => ({ name, kind: "f32", shape });
export const label = (name: string, classes: number): FieldSpec => ({ name, kind: "label", shape: [], classes });
export const token = (name: string, vocab: number): FieldSpec => ({ name, kind: "token", shape: [], vocab });
export const tokens = (name: string, length: number, vocab: number): FieldSpec => ({ name, kind: "tokens", shape: [length], vocab });
export const spec = (name: string, ...fields: FieldSpec[]): DataSpec => ({ name, fields });

/** A fresh temporary folder, removed after the test file's tests. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "repr-data-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a file, making its folders. */
export function write(path: string, content: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** Runs `action`, expects a DataError of `kind`, and checks its message contains each of `parts`. */
export async function expectDataError(action: () => unknown, kind: DataProblem, ...parts: string[]): Promise<DataError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a DataError (${kind}) naming ${parts.join(", ")}`).toBeInstanceOf(DataError);
  const error = caught as DataError;
  expect(error.kind, error.message).toBe(kind);
  for (const part of parts) expect(error.message).toContain(part);
  return error;
}
