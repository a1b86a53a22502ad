/**
 * How the checker reaches files: reading them and resolving import paths.
 * Tests use an in-memory host; the command line uses `projectFileHost`,
 * which keeps imports inside the project (spec/names.md, "Where imports may
 * lead"); `nodeFileHost` reads any file.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve as resolvePath, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { NotRegularFileError, readRegularFileSync } from "../../runtime/io/regular-file.js";
import { firstInvalidUtf8 } from "../../runtime/io/utf8.js";

/** Why a file that exists cannot be imported. */
export type FileRefusal =
  /** A FIFO, a device, a folder: reading it could block or never end. */
  | { readonly kind: "not-regular"; readonly what: string }
  | { readonly kind: "not-utf8"; readonly offset: number }
  /** Its real path (symlinks followed) is outside the project folder `root`. */
  | { readonly kind: "outside-root"; readonly root: string; readonly real: string };

/** Reads files and resolves import paths; never throws. */
export interface FileHost {
  /** The file's text; null when there is no such file; a refusal when it exists but may not be imported. */
  readFile(path: string): string | null | FileRefusal;
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

/** A regular UTF-8 file's text, null when it cannot be read, or why it is refused. */
function readSource(path: string): string | null | FileRefusal {
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(path);
  } catch (err) {
    if (err instanceof NotRegularFileError) return { kind: "not-regular", what: err.what };
    return null;
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad !== null) return { kind: "not-utf8", offset: bad };
  const text = bytes.toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A path relative to the working folder when it is inside it, else absolute. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}

/** The file host that reads any file: node:fs, regular UTF-8 files only. */
export const nodeFileHost: FileHost = {
  readFile: readSource,
  resolve: (fromFile, importPath) => resolveImport(fromFile, importPath),
  displayName: shownPath,
};

/** The real path, symlinks followed; null when it does not exist. */
function realPath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/**
 * Where `path` really leads: its real path, or for a path that does not
 * exist, the real path of its nearest existing folder with the rest appended.
 */
function realTarget(path: string): string {
  const absolute = resolvePath(path);
  for (let dir = absolute; ; dir = dirname(dir)) {
    const real = realPath(dir);
    if (real !== null) return resolvePath(real, relative(dir, absolute));
    if (dirname(dir) === dir) return absolute;
  }
}

/** Whether `path` is `folder` or inside it (both real paths). */
function isInside(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/**
 * The project folder of an entry file: the nearest folder at or above the
 * entry file's own (real) folder that holds a `package.json`, else the entry
 * file's folder itself.
 */
export function projectRoot(entryFile: string): string {
  const folder = dirname(resolvePath(entryFile));
  const start = realPath(folder) ?? folder;
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = resolvePath(dir, "package.json");
    if (existsSync(manifest) && statSync(manifest).isFile()) return dir;
    if (dirname(dir) === dir) return start;
  }
}

/**
 * The file host of the command line for a program whose entry file is
 * `entryFile`: imports must stay inside its project folder (`projectRoot`),
 * checked on real paths so a symlink cannot lead out, except the standard
 * library, which is always allowed; `allowOutside` lifts the rule.
 */
export function projectFileHost(entryFile: string, options: { readonly allowOutside?: boolean } = {}): FileHost {
  if (options.allowOutside) return nodeFileHost;
  const root = projectRoot(entryFile);
  const std = realPath(STD_DIR) ?? STD_DIR;
  return {
    ...nodeFileHost,
    readFile(path) {
      // Decided on where the path leads, before anything is read, and the same whether the file exists or
      // not: a refusal must not tell what exists outside the project.
      const real = realTarget(path);
      if (!isInside(real, std) && !isInside(real, root)) return { kind: "outside-root", root: shownPath(root), real };
      return readSource(path);
    },
  };
}
