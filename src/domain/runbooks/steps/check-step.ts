// A check step: runs its checks, judges the findings against what it expects, and retries a failing verdict as its retry says.
import { describeError } from "../../errors.js";
import { judgeFindings } from "../judge-findings.js";
import { parseDuration } from "../runbook-schema.js";
import type { StepOutcomeRecord } from "../run-store.js";
import type { StepKindHandler } from "./step-kind.js";

export const checkStep: StepKindHandler<"check"> = {
  decisions: [],
  async execute(step, run, context) {
    const attempts = step.retry?.attempts ?? 1;
    const interval = step.retry === undefined ? 0 : (parseDuration(step.retry.interval) ?? 0);
    let last: StepOutcomeRecord = { summary: "the checks did not run" };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        await context.executors.sleep(interval);
        // The wait may have been long: renew the lease, or stop here if another process took the run over.
        context.renewLease();
      }
      try {
        const result = await context.executors.check(step.checks, { ...context.runContext, now: context.clock.now() });
        const verdict = judgeFindings(step, result.findings);
        const findings = result.findings.map((finding) => ({
          code: finding.code,
          severity: finding.severity,
          message: finding.message,
        }));
        last = { summary: verdict.summary, findings, checkAttempts: attempt };
        if (verdict.ok)
          return {
            status: "succeeded",
            outcome: last,
            ...(result.artefacts === undefined ? {} : { artefacts: result.artefacts }),
          };
      } catch (error) {
        last = {
          summary: `failed: the checks could not run: ${describeError(error)}`,
          error: describeError(error),
          checkAttempts: attempt,
        };
      }
    }
    const summary = attempts > 1 ? `${last.summary} (after ${attempts} attempts)` : last.summary;
    const reason = step.overriddenBy === undefined ? undefined : run.inputs[step.overriddenBy];
    if (typeof reason === "string" && reason.trim() !== "" && last.error === undefined) {
      // The checks ran and judged; a person who knows more (the portal fails although the API answers) goes on, on the record.
      const override = { by: run.initiator, reason: reason.trim() };
      return {
        status: "succeeded",
        outcome: {
          ...last,
          summary: `overridden by ${override.by} (${override.reason}); the checks said: ${summary}`,
          override,
        },
      };
    }
    return { status: "failed", outcome: { ...last, summary } };
  },
};
