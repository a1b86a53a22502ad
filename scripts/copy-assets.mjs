// Copies non-TypeScript files the built CLI needs (the standard library) into dist/.
import { cpSync, existsSync } from "node:fs";

if (existsSync("compiler/std")) {
  cpSync("compiler/std", "dist/compiler/std", { recursive: true, filter: (f) => !f.endsWith(".ts") });
}
