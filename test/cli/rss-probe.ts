/**
 * Runs the `repr` CLI (cli/main.ts, with this process's arguments) and, as the
 * process exits, prints its peak resident memory on stderr for
 * `runCliMeasured` to read.
 */
process.on("exit", () => {
  process.stderr.write(`\nrepr-test-max-rss-kb: ${process.resourceUsage().maxRSS}\n`);
});
await import("../../cli/main.js");
