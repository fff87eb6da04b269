// Test runner settings: tests live in test/, mirror src/, and start their own servers on loopback.
import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // test/deploy builds and runs the container image: it needs podman, so it has its own command (npm run test:container).
    exclude: [...configDefaults.exclude, "test/deploy/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The JSON copy lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", ["json", { outputFile: ".vitest/results.json" }]],
  },
});
