// Turns the loaded config and a list of wanted checks into a plan: the checks that run, what is not checked and why, and the AWS scope.
import type { PostureScope } from "../adapters/aws/gather-posture.js";
import type { BreakglassConfig } from "../config/config-schema.js";
import { CHECK_NAMES, checkReadsAws, isCheckName, type CheckName } from "../domain/checks/check-registry.js";
import { BreakglassError } from "../domain/errors.js";
import { describeDisabledChecks, type DisabledCheck } from "../config/disabled-checks.js";

export interface CheckPlan {
  readonly runnable: ReadonlySet<CheckName>;
  readonly notChecked: readonly DisabledCheck[];
  /** Undefined when no AWS check can run. */
  readonly scope: PostureScope | undefined;
}

export function planChecks(config: BreakglassConfig, only: string | undefined): CheckPlan {
  const wanted = only === undefined ? undefined : parseOnly(only);
  const notChecked: DisabledCheck[] = describeDisabledChecks(config).filter(
    (entry) => !wanted || wanted.has(entry.check),
  );
  if (wanted) {
    for (const check of CHECK_NAMES) if (!wanted.has(check)) notChecked.push({ check, reason: "not in --only" });
  }
  const skipped = new Set(notChecked.map((entry) => entry.check));
  const runnable = new Set(CHECK_NAMES.filter((check) => !skipped.has(check)));
  return { runnable, notChecked, scope: scopeOf(config, runnable) };
}

function parseOnly(value: string): Set<CheckName> {
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new BreakglassError(
      "USAGE",
      "--only",
      `expected a comma-separated list of checks (${CHECK_NAMES.join(", ")})`,
    );
  for (const name of names) {
    if (!isCheckName(name)) {
      throw new BreakglassError("USAGE", "--only", `unknown check "${name}" (checks: ${CHECK_NAMES.join(", ")})`);
    }
  }
  return new Set(names as CheckName[]);
}

function scopeOf(config: BreakglassConfig, runnable: ReadonlySet<CheckName>): PostureScope | undefined {
  const aws = config.aws;
  if (!aws) return undefined;
  // The gatherer reads only for the checks that read AWS; the IdP's metadata is read before it.
  const checks = new Set([...runnable].filter(checkReadsAws));
  if (checks.size === 0) return undefined;
  const account = aws.emergencyAccount;
  const anyArn =
    account.roleArn ?? account.samlProviders?.[0] ?? account.emergencyRoles?.[0] ?? aws.organization?.managementRoleArn;
  return {
    checks,
    partition: anyArn?.split(":")[1] ?? "aws",
    emergencyAccount: {
      accountId: account.accountId,
      roleArn: account.roleArn,
      samlProviders: account.samlProviders ?? [],
      emergencyRoles: account.emergencyRoles ?? [],
      emergencyUsers: account.emergencyUsers ?? [],
    },
    identityCenter: aws.identityCenter,
    organization: aws.organization,
    // The watch check judges the queue; a watcher on CloudTrail LookupEvents alone has none to check.
    watch:
      config.watch?.queueUrl === undefined
        ? undefined
        : { queueUrl: config.watch.queueUrl, region: config.watch.region },
    concurrency: config.checks.concurrency,
  };
}
