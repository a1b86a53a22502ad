/**
 * How the checker reaches files: reading them and resolving import paths.
 * Tests use an in-memory host; the command line uses `nodeFileHost`.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";

/** Reads files and resolves import paths; never throws. */
export interface FileHost {
  /** The file's text, or null when it cannot be read. */
  readFile(path: string): string | null;
  /** The path an import names, seen from the importing file. */
  resolve(fromFile: string, importPath: string): string;
  /** How a resolved path is shown in diagnostics; the path itself when absent. */
  displayName?(path: string): string;
}

/** The folder of the bundled standard library (works from source and from dist/). */
export const STD_DIR = fileURLToPath(new URL("../std/", import.meta.url));

/**
 * Resolves an import path. `"std"` is the standard library's `nn.repr`;
 * `"std/<name>"` is `<name>.repr` in the bundled folder. Other paths are
 * relative to the importing file's folder; `.repr` is added when missing.
 */
export function resolveImport(fromFile: string, importPath: string, stdDir: string = STD_DIR): string {
  const withExt = importPath.endsWith(".repr") ? importPath : `${importPath}.repr`;
  if (importPath === "std") return resolvePath(stdDir, "nn.repr");
  if (importPath.startsWith("std/")) return resolvePath(stdDir, withExt.slice("std/".length));
  if (isAbsolute(withExt)) return withExt;
  return resolvePath(dirname(fromFile), withExt);
}

/** The file host for the command line: node:fs, UTF-8. */
export const nodeFileHost: FileHost = {
  readFile(path) {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return null;
    }
  },
  resolve: (fromFile, importPath) => resolveImport(fromFile, importPath),
  displayName(path) {
    const rel = relative(process.cwd(), path);
    return rel.startsWith("..") || isAbsolute(rel) ? path : rel;
  },
};
