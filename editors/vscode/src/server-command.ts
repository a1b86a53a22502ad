/**
 * Which `repr` runs the language server: the `repr.server.path` setting
 * (a relative path from the first workspace folder), else the first
 * workspace folder's `node_modules/.bin/repr`. Never `npx`, which may
 * download a package the user did not choose.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";

/** The executable to start, or null when there is none (the setting is empty and no workspace has repr installed). */
export function serverCommand(setting: string, folders: readonly string[], platform: NodeJS.Platform = process.platform, exists: (path: string) => boolean = existsSync): string | null {
  const configured = setting.trim();
  if (configured) return isAbsolute(configured) || folders.length === 0 ? configured : join(folders[0]!, configured);
  const bin = platform === "win32" ? "repr.cmd" : "repr";
  for (const folder of folders) {
    const candidate = join(folder, "node_modules", ".bin", bin);
    if (exists(candidate)) return candidate;
  }
  return null;
}
