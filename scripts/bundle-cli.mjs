// Bundles the CLI from src/ into dist/bundle/ (run by `npm run build` after tsc): a small entry plus one chunk per
// command, so `metadata inspect` reads a handful of files instead of a hundred modules (issue 15: a person waits on
// every CLI call during an incident). tsc's dist/ tree stays beside it, unchanged: worker threads (the check thread,
// the DynamoDB worker) start from it, and the bundle's paths derived from import.meta.url point into it.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "dist", "bundle");

/**
 * The libraries bundled into the chunks (with what they import): the ones the quick commands (--help, runbook list,
 * metadata inspect) use. Every other package (the AWS SDK, Bolt, the store drivers, express, xml-crypto…) stays an
 * import of node_modules, loaded as it is only by the commands that need it.
 */
const BUNDLED_PACKAGES = new Set(["commander", "fast-xml-parser", "node-forge", "picocolors", "yaml", "zod"]);

/**
 * Bundled packages each built into a file of its own (dist/bundle/<name>.cjs, from the same ES module sources) and
 * loaded the first time one of its exports is read, rather than with the chunk that imports it. Our sources import
 * them as a namespace (`import * as x from "…"`) and read the namespace only when they need the package:
 * fast-xml-parser builds the tree that `metadata inspect` needs only for documents its one-pass readers hand back, and
 * reading its 150 KB with the chunk cost every inspection about 4 ms (issue 15).
 */
const LAZY_PACKAGES = { "fast-xml-parser": ["XMLParser"] }; // each one with the exports our sources use
const lazyFile = (name) => `${name.replaceAll("/", "+")}.cjs`;

const packageOf = (specifier) =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");

/** Leaves every package our sources import, but BUNDLED_PACKAGES, to Node's own loader. */
const externalPackages = {
  name: "external-packages",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, ({ path, importer }) =>
      path.startsWith("node:") || importer.includes("/node_modules/") || BUNDLED_PACKAGES.has(packageOf(path))
        ? undefined
        : { path, external: true },
    );
  },
};

const MAIN = join(ROOT, "src", "cli", "main.ts");
const fromMain = (specifier) => join(dirname(MAIN), specifier).replace(/\.js$/, ".ts");
const mainSource = readFileSync(MAIN, "utf8");
/** The modules main.ts imports when the command starts (type-only imports aside). */
const STARTUP_MODULES = [...mainSource.matchAll(/^import (?!type )[^;]*? from "(\.[^"]+)";$/gms)].map((match) =>
  fromMain(match[1]),
);
/** The modules our sources import with import(): each one an entry point of its own to esbuild. */
const LAZY_MODULES = new Set(
  readdirSync(join(ROOT, "src"), { recursive: true })
    .filter((file) => file.endsWith(".ts"))
    .flatMap((file) => {
      const path = join(ROOT, "src", file);
      const imports = readFileSync(path, "utf8").matchAll(/\bimport\("(\.[^"]+)"\)/g);
      return [...imports].map((match) => join(dirname(path), match[1]).replace(/\.js$/, ".ts"));
    }),
);

/** Each output file's require(), defined by its first lines (BANNER); a module may have a `require` of its own. */
const BUILTIN = "__breakglassRequire";
// CommonJS libraries (commander, node-forge) call require() for Node's built-ins, through esbuild's `require` lookup.
const BANNER = [
  'import { createRequire as __breakglassCreateRequire } from "node:module";',
  `const ${BUILTIN} = __breakglassCreateRequire(import.meta.url);`,
  `const require = ${BUILTIN};`,
].join("\n");

/** `import * as x from "<lazy package>";` as an object whose properties require the package's own file when read. */
function requireLazyPackages(source) {
  return source.replace(/^import \* as (\w+) from "([^"]+)";$/gm, (statement, name, specifier) =>
    Object.hasOwn(LAZY_PACKAGES, specifier)
      ? `const ${name} = new Proxy({}, { get: (_, key) => ${BUILTIN}(${JSON.stringify(`./${lazyFile(specifier)}`)})[key] });`
      : statement,
  );
}

/** `import { a, b as c } from "node:x";` as `const { a, b: c } = __breakglassRequire("node:x");` (types dropped). */
function requireBuiltins(source) {
  return source.replace(/^import (type )?\{([^}]*)\} from "(node:[^"]+)";$/gm, (_, typeOnly, names, builtin) => {
    const values = names
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== "" && !name.startsWith("type "))
      .map((name) => name.replace(/ as /, ": "));
    return typeOnly || values.length === 0
      ? ""
      : `const { ${values.join(", ")} } = ${BUILTIN}(${JSON.stringify(builtin)});`;
  });
}

/**
 * Four rewrites of our sources, all invisible outside the bundle:
 * - A namespace import of a package in LAZY_PACKAGES reads that package's own file when first used.
 * - Imports of Node's built-ins become require() calls. Node makes an ES module of a built-in by reading every export
 *   once, and some exports load more of Node when read (fs.ReadStream loads the file streams, crypto.webcrypto the Web
 *   Crypto API): milliseconds at every command start, for nothing. require() reads only the names imported.
 * - A bundled module's import.meta.url would name the chunk it landed in; each one instead names the file tsc compiled
 *   it to (dist/<path under src>.js), so `new URL("../../runbooks/", import.meta.url)` and the like mean what they mean
 *   in the sources and in tsc's tree.
 * - Each module loaded with import() (a command, a lazily loaded library) also imports what main.ts imports at
 *   start-up, which is always loaded before it anyway. esbuild puts the modules shared by the same entry points in one
 *   chunk; without this, each of main.ts's small imports (errors, exit codes, defaults…) is shared by a different set
 *   of lazily loaded modules and becomes a chunk of its own, and every command start reads ten files more.
 */
const rewriteSources = {
  name: "rewrite-sources",
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, ({ path }) => {
      let source = requireLazyPackages(requireBuiltins(readFileSync(path, "utf8")));
      if (source.includes("import.meta.url")) {
        const compiled = join(ROOT, "dist", relative(join(ROOT, "src"), path)).replace(/\.ts$/, ".js");
        const fromChunk = relative(OUT, compiled).split(sep).join("/");
        source = source.replaceAll("import.meta.url", `new URL(${JSON.stringify(fromChunk)}, import.meta.url).href`);
      }
      if (LAZY_MODULES.has(path))
        source += STARTUP_MODULES.map((module) => `\nimport ${JSON.stringify(module)};`).join("");
      return { contents: source, loader: "ts" };
    });
  },
};

/**
 * commander requires node:child_process when it loads, for the one feature breakglass does not use (subcommands as
 * separate executables); loading it costs every command about 3 ms on Node 24. It is required when first spawned.
 */
const commanderWithoutChildProcess = {
  name: "commander-without-child-process",
  setup(build) {
    build.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, ({ path }) => ({
      contents: readFileSync(path, "utf8").replace(
        "const childProcess = require('node:child_process');",
        "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
      ),
      loader: "js",
    }));
  },
};

rmSync(OUT, { recursive: true, force: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { bin: "src/cli/bin.ts" },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "[name]-[hash]",
  banner: { js: BANNER },
  plugins: [externalPackages, rewriteSources, commanderWithoutChildProcess],
  metafile: true,
  logLevel: "warning",
});

/** Each lazily loaded package as CommonJS, from its ES module sources (what the chunks held before), imported by name. */
const lazyResults = await Promise.all(
  Object.entries(LAZY_PACKAGES).map(([name, exports]) =>
    build({
      absWorkingDir: ROOT,
      stdin: { contents: `export { ${exports.join(", ")} } from ${JSON.stringify(name)};`, resolveDir: ROOT },
      outfile: join(OUT, lazyFile(name)),
      bundle: true,
      format: "cjs",
      platform: "node",
      target: "node20",
      metafile: true,
      logLevel: "warning",
    }),
  ),
);

/**
 * The npm packages bundled into each output file (none: only breakglass's own code): test/cli/startup-imports.test.ts
 * names what a command loaded with it.
 */
const contents = {};
const outputs = [result, ...lazyResults].flatMap(({ metafile }) => Object.entries(metafile.outputs));
for (const [output, { inputs }] of outputs) {
  const packages = Object.keys(inputs).flatMap(
    (input) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1] ?? [],
  );
  contents[relative(OUT, join(ROOT, output))] = [...new Set(packages)].sort();
}
writeFileSync(join(OUT, "contents.json"), `${JSON.stringify(contents, null, 2)}\n`);
// esbuild's whole account of the bundle (every input in every output, with sizes), for who tunes the chunks.
if (process.env.BUNDLE_METAFILE) writeFileSync(process.env.BUNDLE_METAFILE, JSON.stringify(result.metafile));
