// The watcher's settings, resolved once from breakglass.yaml (who the emergency principals are, which source, the burst
// gap), and the source and watcher made from them: what `breakglass watch` and serve both start from.
import { AwsClients, DEFAULT_AWS_SETTINGS, type AwsSettings } from "../adapters/aws/aws-clients.js";
import { LookupEventsSource } from "../adapters/watch/lookup-events-source.js";
import { regionOfQueueUrl, SqsEventSource } from "../adapters/watch/sqs-event-source.js";
import type { BreakglassConfig } from "../config/config-schema.js";
import { BreakglassError } from "../domain/errors.js";
import type { CloudTrailEventSource } from "../domain/ports/cloudtrail-event-source.js";
import type { BreakglassStore } from "../domain/ports/store.js";
import type { Clock } from "../domain/shared/clock.js";
import type { EmergencyPrincipals } from "../domain/watch/classify-event.js";
import type { AuditLog } from "../domain/audit/audit-log.js";
import { accountOfArn } from "../domain/shared/arn.js";
import { IdentityCenterIdpChanges } from "./identity-center-idp-changes.js";
import { EmergencyAccountWatcher, type WatchedEventSink } from "./watch-emergency-account.js";

/** Console sign-ins of root and IAM users are logged in us-east-1, wherever the account works. */
export const SIGN_IN_REGION = "us-east-1";
const DEFAULT_LOOKBACK_MS = 3_600_000;

export type WatchSource =
  | { readonly kind: "queue"; readonly queueUrl: string; readonly region: string | undefined }
  | { readonly kind: "lookup-events"; readonly regions: readonly string[]; readonly lookbackMs: number };

export interface WatchSettings {
  readonly principals: EmergencyPrincipals;
  readonly burstGapMs: number;
  readonly source: WatchSource;
  /** The read role in the emergency account (aws.emergencyAccount.roleArn), for LookupEvents. */
  readonly readRoleArn: string | undefined;
  /** With aws.identityCenter: its IdP configuration changes (sso-directory events) end the instance's attestation. */
  readonly identityCenter?: { readonly instanceArn: string; readonly administratorAccountId: string | undefined };
}

/** The watcher's settings, or a usage error naming what is missing: it judges against aws.emergencyAccount. */
export function watchSettings(config: BreakglassConfig): WatchSettings {
  const account = config.aws?.emergencyAccount;
  if (account === undefined)
    throw new BreakglassError(
      "USAGE",
      "aws.emergencyAccount",
      "the watcher needs the emergency account (aws.emergencyAccount): it judges who acted there",
    );
  const watch = config.watch;
  const identityCenter = config.aws?.identityCenter;
  const principals: EmergencyPrincipals = {
    accountId: account.accountId,
    users: account.emergencyUsers ?? [],
    roles: [...(account.emergencyRoles ?? []), ...(account.actionRoleArn ? [account.actionRoleArn] : [])],
    samlProviders: account.samlProviders ?? [],
  };
  const source: WatchSource =
    watch?.queueUrl !== undefined
      ? {
          kind: "queue",
          queueUrl: watch.queueUrl,
          region: watch.region ?? regionOfQueueUrl(watch.queueUrl) ?? config.aws?.region,
        }
      : {
          kind: "lookup-events",
          regions: watch?.lookupEvents?.regions ?? [
            ...new Set([SIGN_IN_REGION, ...(config.aws?.region ? [config.aws.region] : [])]),
          ],
          lookbackMs: watch?.lookupEvents?.lookback ?? DEFAULT_LOOKBACK_MS,
        };
  return {
    principals,
    burstGapMs: watch?.burstGap ?? 3_600_000,
    source,
    readRoleArn: account.roleArn,
    ...(identityCenter === undefined
      ? {}
      : {
          identityCenter: {
            instanceArn: identityCenter.instanceArn,
            administratorAccountId:
              identityCenter.accountId ?? (identityCenter.roleArn ? accountOfArn(identityCenter.roleArn) : undefined),
          },
        }),
  };
}

export interface WatchRuntimeOptions {
  readonly store: BreakglassStore;
  readonly clock: Clock;
  readonly sinks?: readonly WatchedEventSink[];
  /** Where an Identity Center IdP change is audited; without it such changes are judged but not acted on. */
  readonly audit?: AuditLog;
  readonly warn?: (message: string) => void;
  /** Test seam, undefined in production: AWS client settings (shorter retries). */
  readonly awsSettings?: Partial<AwsSettings>;
  /** Test seam, undefined in production: the wait between two LookupEvents pages. */
  readonly sleep?: (milliseconds: number) => Promise<void>;
  /** How long a waiting SQS receive waits (20 s, SQS's longest, unless a test shortens it). */
  readonly waitSeconds?: number;
}

export interface WatchRuntime {
  readonly settings: WatchSettings;
  readonly source: CloudTrailEventSource;
  readonly watcher: EmergencyAccountWatcher;
}

export function openWatch(settings: WatchSettings, options: WatchRuntimeOptions): WatchRuntime {
  const clients = new AwsClients({ ...DEFAULT_AWS_SETTINGS, ...options.awsSettings });
  const { source: wanted } = settings;
  let source: CloudTrailEventSource;
  if (wanted.kind === "queue") {
    source = new SqsEventSource({
      client: clients.sqs(undefined, wanted.region),
      queueUrl: wanted.queueUrl,
      ...(options.waitSeconds === undefined ? {} : { waitSeconds: options.waitSeconds }),
    });
  } else {
    const credentials = settings.readRoleArn ? clients.assumeRole(settings.readRoleArn, "watch") : undefined;
    source = new LookupEventsSource({
      regions: wanted.regions.map((region) => ({ region, client: clients.cloudTrail(credentials, region) })),
      state: options.store.serveState,
      clock: options.clock,
      lookbackMs: wanted.lookbackMs,
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
  }
  const watcher = new EmergencyAccountWatcher({
    events: options.store.watchedEvents,
    windows: options.store.windows,
    principals: settings.principals,
    clock: options.clock,
    burstGapMs: settings.burstGapMs,
    sinks: [...(options.sinks ?? []), ...identityCenterSink(settings, options)],
    ...(options.warn ? { warn: options.warn } : {}),
  });
  return { settings, source, watcher };
}

/** The sink that ends the Identity Center attestation when CloudTrail reports a change of its external IdP. */
function identityCenterSink(settings: WatchSettings, options: WatchRuntimeOptions): WatchedEventSink[] {
  if (settings.identityCenter === undefined || options.audit === undefined) return [];
  const changes = new IdentityCenterIdpChanges({
    ...settings.identityCenter,
    attestations: options.store.attestations,
    audit: options.audit,
  });
  return [
    {
      accept: (record) => {
        const outcome = changes.handle(record);
        if (outcome.kind === "recorded")
          options.warn?.(
            `Identity Center's IdP configuration changed (${outcome.change.eventName} by ${outcome.change.changedBy}): ` +
              "its attestation no longer holds; run `breakglass identity-center attest` after checking the import",
          );
      },
    },
  ];
}
