// Lint rules: typescript-eslint's recommended set, strict about unused code and floating promises, and the layer direction
// domain ← adapters ← application ← front ends (slack ← server ← cli), which a commit cannot break silently.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

/** An import of another layer's folder, seen from inside src/ (relative specifiers only: src/ has no path aliases). */
const layer = (name) => `^(\\.\\.?/)+(.*/)?${name}/`;
const restrict = (names, why) =>
  names.map((name) => ({ regex: layer(name), message: `${why} (see README, Development).` }));
/** Packages that do I/O or speak to a vendor: adapters and front ends use them, never the domain. */
const IO_PACKAGES = [
  "@aws-sdk/*",
  "@smithy/*",
  "@slack/*",
  "undici",
  "better-sqlite3",
  "prom-client",
  "commander",
  "node:fs",
  "node:fs/promises",
  "node:http",
  "node:https",
  "node:net",
  "node:worker_threads",
];
const layerRules = (patterns) => ({ "no-restricted-imports": ["error", { patterns }] });

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", ".venv/", ".node24/", "bench/.cache/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["eslint.config.js", "bin/*.js", ".ci/*.mjs"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-throw-literal": "error",
    },
  },
  {
    // Prettier wraps code at 120 but never breaks a string, a template or a comment: this bound keeps those
    // readable without scrolling too (issue 9 item 11). Split a long message into "…" + "…", never shorten it.
    files: ["src/**/*.ts", "test/**/*.ts", "bench/**/*.ts"],
    rules: { "max-len": ["error", { code: 160, tabWidth: 2 }] },
  },
  {
    // Every error is a BreakglassError with a code whose kind tells the caller what to do (src/domain/errors.ts).
    files: ["src/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "NewExpression[callee.name='Error']",
          message: "Throw a BreakglassError with a code (src/domain/errors.ts), not a bare Error.",
        },
        {
          selector: "CallExpression[callee.name='Error']",
          message: "Throw a BreakglassError with a code (src/domain/errors.ts), not a bare Error.",
        },
      ],
    },
  },
  {
    files: ["src/domain/**/*.ts"],
    rules: layerRules([
      ...restrict(
        ["adapters", "application", "config", "cli", "slack", "server", "drill"],
        "The domain is pure: it imports only the domain",
      ),
      {
        group: IO_PACKAGES,
        message: "The domain does no I/O: put this behind a port and implement it in src/adapters.",
      },
    ]),
  },
  {
    files: ["src/adapters/**/*.ts"],
    rules: layerRules(
      restrict(
        ["application", "config", "cli", "slack", "server", "drill"],
        "Adapters implement the domain's ports: they import only the domain and other adapters",
      ),
    ),
  },
  {
    files: ["src/config/**/*.ts"],
    rules: layerRules(
      restrict(
        ["adapters", "application", "cli", "slack", "server", "drill"],
        "The config schema and loader import only the domain",
      ),
    ),
  },
  {
    files: ["src/application/**/*.ts"],
    rules: layerRules(
      restrict(
        ["cli", "slack", "server", "drill"],
        "The application layer is shared by every front end: it imports no front end",
      ),
    ),
  },
  {
    files: ["src/slack/**/*.ts"],
    rules: layerRules(
      restrict(["cli", "server", "drill"], "The Slack front end imports neither the CLI nor the server process"),
    ),
  },
  {
    files: ["src/server/**/*.ts"],
    rules: layerRules(restrict(["cli", "drill"], "The server process does not import the CLI or the drill")),
  },
  {
    // The drill composes the real service with loopback stand-ins, like a front end; only the CLI runs it.
    files: ["src/drill/**/*.ts"],
    rules: layerRules(restrict(["cli"], "The drill is run by the CLI; it does not import it")),
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
);
