// Prints vitest's JSON results as one plain closing line: "vitest: N passed, N failed, N skipped".
import { readFileSync } from "node:fs";

const results = JSON.parse(readFileSync(new URL("../.vitest/results.json", import.meta.url), "utf8"));
const label = process.argv[2] ? `${process.argv[2]}: ` : "";
console.log(
  `${label}${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests + results.numTodoTests} skipped`,
);
if (results.numTotalTests === 0) {
  console.error("no test ran");
  process.exit(1);
}
