// Where a run goes when a step fails: it stops there, goes on to the next step, or jumps ahead skipping the steps between.
import { describe, expect, it } from "vitest";
import { routeFailure } from "../../../src/domain/runbooks/failure-routing.js";
import { parseRunbook } from "../../../src/domain/runbooks/parse-runbook.js";

const RUNBOOK = parseRunbook(
  [
    "id: routing",
    "title: Routing",
    "failureMode: FM3",
    "summary: One step per onFailure.",
    "inputs: []",
    "steps:",
    "  - { id: probe, title: Probe, kind: check, checks: [identity-center], expect: clean, onFailure: { goto: recover } }",
    "  - { id: tell, title: Tell, kind: notify, channel: incident, message: told, onFailure: continue }",
    "  - { id: jumped-over, title: Jumped over, kind: notify, channel: incident, message: never sent }",
    "  - { id: recover, title: Recover, kind: notify, channel: incident, message: recovering }",
    "",
  ].join("\n"),
  "routing.yaml",
).runbook;
const OUTCOME = { summary: "failed: not clean: IDENTITY_CENTER_UNREACHABLE", error: "not clean" };

describe("routeFailure", () => {
  it("halts the run at a step whose onFailure is stop (the default)", () => {
    expect(routeFailure(RUNBOOK, 3, OUTCOME)).toEqual({
      runStatus: "failed",
      steps: [{ stepId: "recover", status: "failed", outcome: OUTCOME }],
      detail: { ...OUTCOME, onFailure: "stop" },
      next: null,
    });
  });

  it("goes on with the next step when onFailure is continue", () => {
    expect(routeFailure(RUNBOOK, 1, OUTCOME)).toMatchObject({
      runStatus: "running",
      steps: [{ stepId: "tell", status: "failed" }],
      next: 2,
    });
  });

  it("jumps to the goto target, skipping every step between in the same transition, and names them in the audit detail", () => {
    const route = routeFailure(RUNBOOK, 0, OUTCOME);
    expect(route.next).toBe(3);
    expect(route.runStatus).toBe("running");
    expect(route.steps.map((change) => [change.stepId, change.status])).toEqual([
      ["probe", "failed"],
      ["tell", "skipped"],
      ["jumped-over", "skipped"],
    ]);
    expect(route.steps[1]?.outcome?.summary).toBe('skipped: step "probe" failed and the run jumped to "recover"');
    expect(route.detail).toEqual({ ...OUTCOME, onFailure: { goto: "recover" }, skipped: ["tell", "jumped-over"] });
  });
});
