import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    // beforeAll hooks of the end-to-end tests train small models through the CLI.
    hookTimeout: 180_000,
  },
});
