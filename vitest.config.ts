import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        // Pulumi's mocks are process-global: every test file runs in its own process.
        pool: "forks",
        testTimeout: 60_000,
        hookTimeout: 120_000,
    },
});
