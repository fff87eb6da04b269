// What `breakglass serve` exposes at /metrics, in Prometheus text format (prom-client): checks, findings, runs, Slack
// acknowledgement latency, rejected Slack requests and AWS API errors.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Finding } from "../domain/checks/finding.js";
import type { Rejection } from "../slack/request-guard.js";
import type { SlackMetrics } from "../slack/slack-context.js";

export class ServiceMetrics implements SlackMetrics {
  readonly registry = new Registry();
  private readonly checks = new Counter({
    name: "breakglass_checks_total",
    help: "Full checks run by the scheduler, by outcome.",
    labelNames: ["outcome"],
    registers: [this.registry],
  });
  private readonly checkDuration = new Histogram({
    name: "breakglass_check_duration_seconds",
    help: "How long a full check took.",
    buckets: [0.1, 0.5, 1, 5, 15, 60, 180, 600],
    registers: [this.registry],
  });
  private readonly findings = new Gauge({
    name: "breakglass_findings",
    help: "Findings of the last completed check, by code and severity.",
    labelNames: ["code", "severity"],
    registers: [this.registry],
  });
  private readonly lastCheck = new Gauge({
    name: "breakglass_last_check_completed_timestamp_seconds",
    help: "When the last full check completed (Unix time).",
    registers: [this.registry],
  });
  readonly runs = new Gauge({
    name: "breakglass_runbook_runs",
    help: "Runbook runs in the store, by state.",
    labelNames: ["state"],
    registers: [this.registry],
  });
  private readonly ack = new Histogram({
    name: "breakglass_slack_ack_seconds",
    help: "Time from a Slack request's arrival to the end of breakglass's answer (Slack gives up after 3 s).",
    labelNames: ["kind"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3],
    registers: [this.registry],
  });
  private readonly rejected = new Counter({
    name: "breakglass_slack_requests_rejected_total",
    help: "Requests to /slack/events refused: 401 unsigned, forged, stale or replayed; 400 signed but malformed. By reason.",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  private readonly refused = new Counter({
    name: "breakglass_slack_refusals_total",
    help: "Slack users refused for lack of permission, by permission.",
    labelNames: ["permission"],
    registers: [this.registry],
  });
  private readonly awsErrors = new Counter({
    name: "breakglass_aws_api_errors_total",
    help: "AWS API calls that failed after their retries, by service.",
    labelNames: ["service"],
    registers: [this.registry],
  });
  private readonly posts = new Counter({
    name: "breakglass_slack_posts_total",
    help: "Messages breakglass tried to post to Slack, by outcome.",
    labelNames: ["outcome"],
    registers: [this.registry],
  });

  private readonly leader = new Gauge({
    name: "breakglass_leader",
    help: "1 while this replica leads (runs checks, posts alerts, reaps leases, executes runs), 0 while it follows.",
    registers: [this.registry],
  });
  private readonly leaderToken = new Gauge({
    name: "breakglass_leader_token",
    help: "The leader lease's fencing token as this replica last read it (its own while it leads).",
    registers: [this.registry],
  });
  private readonly leaseAge = new Gauge({
    name: "breakglass_leader_lease_age_seconds",
    help: "Seconds since the leader lease was last renewed, on this replica's clock; it stays under a third of the lease while a leader is alive.",
    registers: [this.registry],
  });
  private readonly leaderChanges = new Counter({
    name: "breakglass_leader_transitions_total",
    help: "Times this replica became leader, and stepped down, by transition.",
    labelNames: ["transition"],
    registers: [this.registry],
  });

  constructor() {
    // Zero-valued series exist from the start, so alerts on rate() work before the first event.
    for (const outcome of ["completed", "failed"]) this.checks.inc({ outcome }, 0);
    for (const reason of ["missing-headers", "stale", "forged", "replayed", "malformed"] satisfies (
      Rejection | "malformed"
    )[])
      this.rejected.inc({ reason }, 0);
    for (const outcome of ["delivered", "failed", "logged"]) this.posts.inc({ outcome }, 0);
    for (const transition of ["elected", "stepped-down"]) this.leaderChanges.inc({ transition }, 0);
  }

  setLeadership(status: {
    readonly role: string;
    readonly token: number | null;
    readonly leaseAgeSeconds: number | null;
  }): void {
    this.leader.set(status.role === "leader" ? 1 : 0);
    if (status.token === null) this.leaderToken.reset();
    else this.leaderToken.set(status.token);
    if (status.leaseAgeSeconds === null) this.leaseAge.reset();
    else this.leaseAge.set(status.leaseAgeSeconds);
  }

  leadershipChanged(transition: "elected" | "stepped-down"): void {
    this.leaderChanges.inc({ transition });
  }

  checkCompleted(seconds: number, findings: readonly Finding[], at: Date): void {
    this.checks.inc({ outcome: "completed" });
    this.checkDuration.observe(seconds);
    this.lastCheck.set(at.getTime() / 1000);
    this.findings.reset();
    const counts = new Map<string, { code: string; severity: string; count: number }>();
    for (const finding of findings) {
      const key = `${finding.code}\u0000${finding.severity}`;
      const entry = counts.get(key) ?? { code: finding.code, severity: finding.severity, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
    }
    for (const { code, severity, count } of counts.values()) this.findings.set({ code, severity }, count);
  }

  checkFailed(): void {
    this.checks.inc({ outcome: "failed" });
  }

  slackAcknowledged(kind: string, seconds: number): void {
    this.ack.observe({ kind }, seconds);
  }

  slackRejected(reason: Rejection | "malformed"): void {
    this.rejected.inc({ reason });
  }

  slackRefused(permission: string): void {
    this.refused.inc({ permission });
  }

  slackPosted(outcome: "delivered" | "failed" | "logged"): void {
    this.posts.inc({ outcome });
  }

  awsCallFailed(service: string): void {
    this.awsErrors.inc({ service });
  }

  setRuns(counts: Readonly<Record<string, number>>): void {
    this.runs.reset();
    for (const [state, count] of Object.entries(counts)) this.runs.set({ state }, count);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
