// The DynamoDB worker's entry when breakglass runs from its TypeScript sources (tsx, vitest): Node 20 does not apply
// the parent's `--import tsx` hooks to a worker thread's entry, so the worker loads its .ts module through tsx's API.
import { tsImport } from "tsx/esm/api";

await tsImport("./dynamodb-worker.ts", import.meta.url);
