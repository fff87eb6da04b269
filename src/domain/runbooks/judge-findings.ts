// Whether a check step's findings meet what the step expects of them (expect: any, clean or findings).
import { isBlocking, type Finding } from "../checks/finding.js";
import type { CheckStep } from "./runbook-schema.js";

export interface FindingsVerdict {
  readonly ok: boolean;
  /** One line for a person, as the step's outcome shows it. */
  readonly summary: string;
}

/** Whether a check step's findings meet its expectation, per the contract in runbook-schema.ts. */
export function judgeFindings(
  step: Pick<CheckStep, "expect" | "tolerate" | "codes">,
  findings: readonly Finding[],
): FindingsVerdict {
  const codes = (list: readonly Finding[]) => [...new Set(list.map((finding) => finding.code))].join(", ");
  switch (step.expect) {
    case "any":
      return {
        ok: true,
        summary: `${findings.length} finding(s) shown${findings.length === 0 ? "" : `: ${codes(findings)}`}`,
      };
    case "clean": {
      const blocking = findingsAgainstClean(step, findings);
      return blocking.length === 0
        ? { ok: true, summary: "clean" }
        : { ok: false, summary: `failed: not clean: ${codes(blocking)}` };
    }
    case "findings": {
      const expected = step.codes;
      const matching = findings.filter((finding) =>
        expected === undefined ? isBlocking(finding) : expected.includes(finding.code),
      );
      if (matching.length > 0) return { ok: true, summary: `found as expected: ${codes(matching)}` };
      return {
        ok: false,
        summary:
          `failed: expected ${expected === undefined ? "a high or critical finding" : `one of ${expected.join(", ")}`}, ` +
          `found ${findings.length === 0 ? "none" : codes(findings)}`,
      };
    }
  }
}

/** The findings that keep a check step expecting `clean` from passing: blocking ones it does not tolerate. */
export function findingsAgainstClean(step: Pick<CheckStep, "tolerate">, findings: readonly Finding[]): Finding[] {
  return findings.filter((finding) => isBlocking(finding) && !(step.tolerate ?? []).includes(finding.code));
}
