import { defineConfig } from "vitest/config";

// Unit tests need nothing. Integration and e2e tests drive a real Docker engine and real Kubernetes
// binaries: their global setup builds what they need once (slow the first time on a fresh machine,
// seconds after), and they run one file at a time (2 cores, one engine).
const CRIO_FILES = [
  "cluster-workloads",
  "cluster-lifecycle",
  "addon-ingress",
  "addon-registry",
  "registry-mirror",
  "tunnel",
  "multinode",
  "day2",
  "snapshot",
];

export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 3_600_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"], sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: {
          name: "system",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts", "test/hosts/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 0 },
        },
      },
      // The files that touch the container runtime, again on clusters that run CRI-O (clusterForFile
      // reads KUBEYARD_E2E_RUNTIME); after the others, so that one cluster runs at a time.
      {
        extends: true,
        test: {
          name: "system-cri-o",
          include: CRIO_FILES.map((f) => `test/e2e/${f}.test.ts`),
          globalSetup: ["test/global-setup.ts"],
          fileParallelism: false,
          env: { KUBEYARD_E2E_RUNTIME: "cri-o" },
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
