// Which Node binaries the CLI benchmarks measure: users run the 20, 22 and 24 LTS lines, and start-up differs by line.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Node 24, which .ci/run installs there: measured after the running Node when present (or BENCH_NODE names another). */
const CI_NODE_24 = fileURLToPath(new URL("../.node24/node_modules/node/bin/node", import.meta.url));

/** The Node binaries to measure with: the running one, then BENCH_NODE or else .ci/run's Node 24 when either exists. */
export function benchNodes(): string[] {
  const other = process.env["BENCH_NODE"] ?? (existsSync(CI_NODE_24) ? CI_NODE_24 : undefined);
  if (other !== undefined && !existsSync(other)) throw new TypeError(`BENCH_NODE: ${other} does not exist`);
  return [process.execPath, ...(other === undefined || other === process.execPath ? [] : [other])];
}
