#!/usr/bin/env node
// Entry point of the `breakglass` command: runs the bundled CLI (dist/bundle/, built by `npm ci` through the prepare
// script; README "How it is built").
// On Node 22.1 and later, Node keeps the compiled code of breakglass and its libraries in its on-disk compile cache,
// so every command after the first starts faster; Node 20 has no such cache, and the call is skipped.
import module from "node:module";

module.enableCompileCache?.();
await import("../dist/bundle/bin.js");
