import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Resolves (and, from @sparticuz/chromium, unpacks) the browser once for every worker.
    globalSetup: ["test/setup/chromium.ts", "test/setup/config-dir.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // e2e suites spawn real processes on 127.0.0.1; two cores -> keep parallelism modest.
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ["default"],
  },
});
