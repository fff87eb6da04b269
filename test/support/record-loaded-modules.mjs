// Preloaded into a child process with `node --import`: appends every module the process loads to the file named by
// $RECORD_LOADED_MODULES, one a line: ES modules as their resolve hook sees them (URLs, node: built-ins included), and
// CommonJS files from require's cache at exit (a package's own require() calls never reach the hook on Node 20).
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";

const record = process.env.RECORD_LOADED_MODULES;
if (!record) throw new TypeError("record-loaded-modules.mjs: set RECORD_LOADED_MODULES to the file to append to");

const hooks = `
import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(${JSON.stringify(record)}, resolved.url + "\\n");
  return resolved;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);

const require = createRequire(import.meta.url);
process.on("exit", () => appendFileSync(record, `${Object.keys(require.cache).join("\n")}\n`));
