import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A temporary folder per run, and a check that the tests leave nothing in it (test/setup/temp-root.ts).
    globalSetup: ["test/setup/temp-root.ts"],
    testTimeout: 60_000,
    // beforeAll hooks of the end-to-end tests train small models through the CLI.
    hookTimeout: 180_000,
  },
});
