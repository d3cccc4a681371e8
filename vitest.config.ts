import { defineConfig } from "vitest/config";

// Unit tests need nothing. Integration and e2e tests drive a real Docker engine and real Kubernetes
// binaries: their global setup builds what they need once (slow the first time on a fresh machine,
// seconds after), and they run one file at a time (2 cores, one engine).
export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 3_600_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      {
        extends: true,
        test: {
          name: "system",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts", "test/hosts/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          fileParallelism: false,
        },
      },
    ],
  },
});
