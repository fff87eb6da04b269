// Builds AWS SDK v3 clients the same way everywhere: adaptive retries, the default credential chain or an assumed role, bounded concurrency per service.
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { IAMClient, type IAMClientConfig } from "@aws-sdk/client-iam";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@aws-sdk/types";
import { AdaptiveRetryStrategy, DefaultRateLimiter } from "@smithy/core/retry";
import pLimit, { type LimitFunction } from "p-limit";
import { BreakglassError } from "../../domain/errors.js";

export interface AwsSettings {
  /** The default Region; undefined lets the SDK take AWS_REGION or the profile's. */
  readonly region: string | undefined;
  /** Attempts per call, throttling and 5xx included (adaptive retry mode also paces the client). */
  readonly maxAttempts: number;
  /** Calls in flight per service; AWS throttles Organizations and IAM at low rates. */
  readonly concurrency: Readonly<Record<ServiceName, number>>;
  /** Replaces the SDK's adaptive retry strategy; tests use the same strategy with shorter delays. */
  readonly retryStrategy?: () => NonNullable<IAMClientConfig["retryStrategy"]>;
  /** Told of every call that failed after its retries (breakglass serve counts them per service in /metrics). */
  readonly onCallFailed?: (service: ServiceName, error: unknown) => void;
  /**
   * How long one attempt may wait for AWS to answer before it counts as failed (and is retried). The SDK waits
   * forever by default: one endpoint that accepts a connection and never answers would hang the whole check.
   */
  readonly requestTimeoutMs?: number;
}

/** AWS answers reads in well under a second; 30 s leaves room for a slow Region and a long page of results. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Opening a TCP (and TLS) connection to an AWS endpoint. */
const CONNECTION_TIMEOUT_MS = 5_000;

export type ServiceName = "iam" | "sts" | "organizations" | "sso-admin" | "cloudtrail" | "eventbridge" | "sqs";

export const DEFAULT_AWS_SETTINGS: AwsSettings = {
  region: undefined,
  maxAttempts: 8,
  concurrency: { iam: 8, sts: 8, organizations: 2, "sso-admin": 2, cloudtrail: 4, eventbridge: 4, sqs: 8 },
};

/** Credentials for one principal: undefined means the SDK default chain (profiles, SSO cache, env, instance roles). */
export type Credentials = AwsCredentialIdentityProvider | undefined;

export class AwsClients {
  private readonly limits: Record<ServiceName, LimitFunction>;
  private sts: STSClient | undefined;

  constructor(readonly settings: AwsSettings = DEFAULT_AWS_SETTINGS) {
    this.limits = {
      iam: pLimit(settings.concurrency.iam),
      sts: pLimit(settings.concurrency.sts),
      organizations: pLimit(settings.concurrency.organizations),
      "sso-admin": pLimit(settings.concurrency["sso-admin"]),
      cloudtrail: pLimit(settings.concurrency.cloudtrail),
      eventbridge: pLimit(settings.concurrency.eventbridge),
      sqs: pLimit(settings.concurrency.sqs),
    };
  }

  /** Runs one AWS call within the service's concurrency limit. */
  call<T>(service: ServiceName, work: () => Promise<T>): Promise<T> {
    const observer = this.settings.onCallFailed;
    if (observer === undefined) return this.limits[service](work);
    return this.limits[service](work).catch((error: unknown) => {
      observer(service, error);
      throw error;
    });
  }

  iam(credentials: Credentials): IAMClient {
    return new IAMClient(this.config(credentials, this.settings.region));
  }

  /** An IAM client that tries each call at most `attempts` times: for a probe whose failure is a fact, not a reason to wait. */
  iamWithAttempts(credentials: Credentials, attempts: number): IAMClient {
    const config = this.config(credentials, this.settings.region);
    return new IAMClient({
      ...config,
      maxAttempts: attempts,
      retryStrategy: this.settings.retryStrategy?.() ?? adaptiveRetries(attempts),
    });
  }

  stsClient(credentials: Credentials): STSClient {
    return new STSClient(this.config(credentials, this.settings.region));
  }

  organizations(credentials: Credentials): OrganizationsClient {
    return new OrganizationsClient(this.config(credentials, this.settings.region));
  }

  ssoAdmin(credentials: Credentials, region: string | undefined): SSOAdminClient {
    return new SSOAdminClient(this.config(credentials, region ?? this.settings.region));
  }

  cloudTrail(credentials: Credentials, region?: string): CloudTrailClient {
    return new CloudTrailClient(this.config(credentials, region ?? this.settings.region));
  }

  /** The watcher's queue, in its own Region (the one in its URL). */
  sqs(credentials: Credentials, region?: string): SQSClient {
    return new SQSClient(this.config(credentials, region ?? this.settings.region));
  }

  /** EventBridge in `region` (the default Region when undefined): rules are per Region. */
  eventBridge(credentials: Credentials, region?: string): EventBridgeClient {
    return new EventBridgeClient(this.config(credentials, region ?? this.settings.region));
  }

  /** The account of the default chain's identity: sts:GetCallerIdentity, which every principal may call. */
  async callerAccountId(): Promise<string> {
    this.sts ??= new STSClient(this.config(undefined, this.settings.region));
    const sts = this.sts;
    const { Account: account } = await this.call("sts", () => sts.send(new GetCallerIdentityCommand({})));
    if (account === undefined || account === "")
      throw new BreakglassError("AWS_FAILED", "sts:GetCallerIdentity", "answered without an account");
    return account;
  }

  /**
   * Credentials for `roleArn`, assumed with the default chain's identity. The session name says
   * it is breakglass, so CloudTrail in the target account shows who read it; the credentials are
   * renewed shortly before they expire.
   */
  assumeRole(roleArn: string, purpose: string): AwsCredentialIdentityProvider {
    let current: AwsCredentialIdentity | undefined;
    return async () => {
      if (current?.expiration && current.expiration.getTime() - Date.now() > 60_000) return current;
      this.sts ??= new STSClient(this.config(undefined, this.settings.region));
      const sts = this.sts;
      const { Credentials: issued } = await this.call("sts", () =>
        sts.send(
          new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName(purpose), DurationSeconds: 900 }),
        ),
      );
      if (!issued?.AccessKeyId || !issued.SecretAccessKey)
        throw new BreakglassError("AWS_FAILED", roleArn, "sts:AssumeRole returned no credentials");
      current = {
        accessKeyId: issued.AccessKeyId,
        secretAccessKey: issued.SecretAccessKey,
        ...(issued.SessionToken ? { sessionToken: issued.SessionToken } : {}),
        ...(issued.Expiration ? { expiration: issued.Expiration } : {}),
      };
      return current;
    };
  }

  private config(credentials: Credentials, region: string | undefined) {
    return {
      ...(region ? { region } : {}),
      ...(credentials ? { credentials } : {}),
      maxAttempts: this.settings.maxAttempts,
      requestHandler: {
        connectionTimeout: CONNECTION_TIMEOUT_MS,
        requestTimeout: this.settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      },
      retryStrategy: this.settings.retryStrategy?.() ?? adaptiveRetries(this.settings.maxAttempts),
    };
  }
}

/**
 * The SDK's adaptive retry mode (retries plus a client-side rate limiter that slows down when AWS
 * throttles), with one change: its rate may not fall below 20 calls/s. Left alone it drops to 0.5
 * calls/s after a few sporadic throttles, which stretches a 1,000-account sweep from seconds to
 * a quarter of an hour (measured in bench/org-sweep.ts).
 */
function adaptiveRetries(maxAttempts: number): AdaptiveRetryStrategy {
  return new AdaptiveRetryStrategy(maxAttempts, {
    rateLimiter: new DefaultRateLimiter({ minFillRate: 20, minCapacity: 20 }),
  });
}

function sessionName(purpose: string): string {
  // 2-64 characters of [\w+=,.@-].
  return `breakglass-${purpose}`.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
}
