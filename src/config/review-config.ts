// Everything that keeps a configuration file from being used as is: schema problems, template placeholders, unset variables.
import { LineCounter, parseDocument } from "yaml";
import { locate, type YamlSource } from "../domain/shared/yaml-location.js";
import { findUnsetVariables } from "./config-environment.js";
import { parseConfig, validateConfigText, withoutRepeatedProblems, type ConfigProblem } from "./load-config.js";
import { findTemplatePlaceholders } from "./template-placeholders.js";

/** Every problem of the file in file order, each exactly once; empty when the file can be used as is in `env`. */
export function reviewConfigText(text: string, path: string, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const schemaProblems = validateConfigText(text, path);
  const placeholders = findTemplatePlaceholders(text);
  // Variables are named by a valid config only: an invalid one has no settled tokenVariable to look up.
  const environment = schemaProblems.length === 0 ? unsetVariableProblems(text, path, env) : [];
  return withoutRepeatedProblems([...schemaProblems, ...placeholders, ...environment]).sort(
    (a, b) => (a.line ?? 0) - (b.line ?? 0),
  );
}

function unsetVariableProblems(text: string, path: string, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const unset = findUnsetVariables(parseConfig(text, path).config, env);
  if (unset.length === 0) return [];
  const lineCounter = new LineCounter();
  const source: YamlSource = { text, document: parseDocument(text, { lineCounter }), lineCounter };
  return unset.map(({ path: keyPath, variable, consequence }) => ({
    // A defaulted tokenVariable is not in the file: the line of the deepest key that is, the directory section.
    line: locate(source, keyPath).line,
    key: keyPath.join("."),
    message: `the environment variable ${variable} is not set here: ${consequence}`,
  }));
}
