// Whether a check step's findings meet what it expects: anything, clean (high and critical count, tolerated codes aside), or findings.
import { describe, expect, it } from "vitest";
import { createFinding } from "../../../src/domain/checks/finding.js";
import { judgeFindings } from "../../../src/domain/runbooks/judge-findings.js";

const EXPIRED = createFinding("CERT_EXPIRED", "The signing certificate expired.");
const WEAK_SIGNATURE = createFinding("CERT_WEAK_SIGNATURE", "The certificate is signed with SHA-1.");
const ROLLOVER = createFinding("ROLLOVER_IN_PROGRESS", "The IdP publishes a second signing certificate.");

describe("judgeFindings", () => {
  it("passes anything when the step expects any, listing the codes shown", () => {
    expect(judgeFindings({ expect: "any" }, [EXPIRED, EXPIRED, ROLLOVER])).toEqual({
      ok: true,
      summary: "3 finding(s) shown: CERT_EXPIRED, ROLLOVER_IN_PROGRESS",
    });
    expect(judgeFindings({ expect: "any" }, [])).toEqual({ ok: true, summary: "0 finding(s) shown" });
  });

  it("counts only high and critical findings against clean, and not those the step tolerates", () => {
    expect(judgeFindings({ expect: "clean" }, [WEAK_SIGNATURE, ROLLOVER])).toEqual({ ok: true, summary: "clean" });
    expect(judgeFindings({ expect: "clean" }, [EXPIRED, ROLLOVER])).toEqual({
      ok: false,
      summary: "failed: not clean: CERT_EXPIRED",
    });
    expect(judgeFindings({ expect: "clean", tolerate: ["CERT_EXPIRED"] }, [EXPIRED])).toEqual({
      ok: true,
      summary: "clean",
    });
  });

  it("wants one of the named codes, or any high or critical finding when none are named", () => {
    expect(judgeFindings({ expect: "findings", codes: ["ROLLOVER_IN_PROGRESS"] }, [ROLLOVER])).toEqual({
      ok: true,
      summary: "found as expected: ROLLOVER_IN_PROGRESS",
    });
    expect(judgeFindings({ expect: "findings", codes: ["CERT_EXPIRED"] }, [ROLLOVER])).toEqual({
      ok: false,
      summary: "failed: expected one of CERT_EXPIRED, found ROLLOVER_IN_PROGRESS",
    });
    expect(judgeFindings({ expect: "findings" }, [])).toEqual({
      ok: false,
      summary: "failed: expected a high or critical finding, found none",
    });
    expect(judgeFindings({ expect: "findings" }, [WEAK_SIGNATURE, EXPIRED])).toEqual({
      ok: true,
      summary: "found as expected: CERT_EXPIRED",
    });
  });
});
