// Prints "N passed, N failed" from a vitest JSON report; fails when no test ran.
// Counts each test by its own status: a test that never finished (its test
// process died mid-file, so the report still has it "pending") is a failure,
// named here, although vitest's totals count it nowhere.
import { readFileSync } from "node:fs";
import { relative } from "node:path";

const path = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(path, "utf8"));
} catch (err) {
  console.log(`no test report at ${path}: ${err.message}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
let passed = 0;
let skipped = 0;
const failures = [];
for (const file of report.testResults ?? []) {
  const name = relative(process.cwd(), file.name);
  if (file.status === "failed" && !file.assertionResults?.some((t) => t.status === "failed")) failures.push(`${name}: ${file.message || "the file failed outside its tests"}`);
  for (const test of file.assertionResults ?? []) {
    if (test.status === "passed") passed++;
    else if (test.status === "skipped" || test.status === "todo") skipped++;
    else failures.push(`${name}: ${test.fullName || test.title} (${test.status === "failed" ? "failed" : `never finished: ${test.status}`})`);
  }
}
for (const line of failures) console.log(`failed: ${line}`);
console.log(`${passed} passed, ${failures.length} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failures.length === 0 && passed > 0 ? 0 : 1);
