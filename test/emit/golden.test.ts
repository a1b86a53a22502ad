/**
 * The golden generated module: what `emitModule` prints for the small fixed
 * plan of `plans.ts`, compared with `golden/tiny-classifier.ts`. A missing
 * golden is written locally (and fails on CI); REPR_BLESS=1 rewrites it. The
 * golden imports the runtime fixture, so `tsc -p tsconfig.json` type-checks it
 * too.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { emitModule } from "../../compiler/emit/index.js";
import { RUNTIME_IMPORT } from "./harness.js";
import { tinyPlan } from "./plans.js";

const dir = join(import.meta.dirname, "golden");
const bless = process.env.REPR_BLESS === "1";

describe("golden generated module", () => {
  it("tiny-classifier", () => {
    const text = emitModule(tinyPlan(), { runtimeImport: RUNTIME_IMPORT });
    const path = join(dir, "tiny-classifier.ts");
    const missing = !existsSync(path);
    expect(missing && process.env.CI !== undefined && process.env.CI !== "", `${path} is missing`).toBe(false);
    if (bless || missing) writeFileSync(path, text);
    expect(text).toBe(readFileSync(path, "utf8"));
  });
});
