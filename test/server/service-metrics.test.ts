// /metrics as Prometheus reads it: each series the issue names, with the labels an alert rule would use.
import { describe, expect, it } from "vitest";
import { AwsClients, DEFAULT_AWS_SETTINGS } from "../../src/adapters/aws/aws-clients.js";
import { createFinding } from "../../src/domain/checks/finding.js";
import { ServiceMetrics } from "../../src/server/service-metrics.js";

describe("ServiceMetrics", () => {
  it("counts AWS calls that failed after their retries, by service, as the clients report them", async () => {
    const metrics = new ServiceMetrics();
    const clients = new AwsClients({
      ...DEFAULT_AWS_SETTINGS,
      onCallFailed: (service) => metrics.awsCallFailed(service),
    });
    await expect(clients.call("iam", () => Promise.reject(new Error("Throttling: Rate exceeded")))).rejects.toThrow(
      "Rate exceeded",
    );
    await expect(clients.call("iam", () => Promise.reject(new Error("ServiceUnavailable")))).rejects.toThrow();
    await clients.call("organizations", () => Promise.resolve("fine"));
    const text = await metrics.text();
    expect(text).toContain('breakglass_aws_api_errors_total{service="iam"} 2');
    expect(text).not.toContain('breakglass_aws_api_errors_total{service="organizations"}');
  });

  it("shows the last check's findings by code and severity, replacing the previous check's", async () => {
    const metrics = new ServiceMetrics();
    metrics.checkCompleted(
      1.5,
      [
        createFinding("CROSS_ACCOUNT_ROLE_MISSING", "a", { accountId: "222222222222" }),
        createFinding("CROSS_ACCOUNT_ROLE_MISSING", "b", { accountId: "333333333333" }),
      ],
      new Date(0),
    );
    metrics.checkCompleted(1.2, [createFinding("ROLLOVER_IN_PROGRESS", "c")], new Date(1000));
    const text = await metrics.text();
    expect(text).toContain('breakglass_findings{code="ROLLOVER_IN_PROGRESS",severity="info"} 1');
    expect(text).not.toContain('code="CROSS_ACCOUNT_ROLE_MISSING"');
    expect(text).toContain('breakglass_checks_total{outcome="completed"} 2');
    expect(text).toContain("breakglass_last_check_completed_timestamp_seconds 1");
  });

  it("has every rejection reason and post outcome at zero from the start, so rate() alerts work at once", async () => {
    const text = await new ServiceMetrics().text();
    for (const reason of ["forged", "stale", "replayed", "missing-headers"])
      expect(text).toContain(`breakglass_slack_requests_rejected_total{reason="${reason}"} 0`);
    expect(text).toContain('breakglass_checks_total{outcome="failed"} 0');
  });
});
