// `npm run test:container`: the container image test, which needs podman and the Debian-made base images
// (scripts/prepare-container-builder.sh). Kept out of the default `vitest run` (vitest.config.ts excludes test/deploy).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/deploy/**/*.test.ts"],
    // Building the image (npm ci, tsc, compiling better-sqlite3) takes minutes on a busy machine.
    hookTimeout: 1_200_000,
    testTimeout: 120_000,
    pool: "forks",
  },
});
