// Runs only the organization-sweep benchmark: `node --import tsx bench/org-sweep-only.ts` (BENCH_ACCOUNTS to resize).
import { benchOrgSweep } from "./org-sweep.js";

await benchOrgSweep(Number(process.env["BENCH_ACCOUNTS"] ?? 1000));
