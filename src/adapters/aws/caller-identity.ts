// Asks STS who the CLI's AWS credentials (the SDK's default chain) belong to: sts:GetCallerIdentity, which every
// principal may call and no policy can deny, so it needs no IAM permission.
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { BreakglassError, describeError } from "../../domain/errors.js";
import { awsErrorCode } from "./aws-error.js";

export interface CallerIdentitySettings {
  /** Any Region: STS answers GetCallerIdentity in every one (breakglass.yaml's aws.region, else AWS_REGION, else us-east-1). */
  readonly region: string;
}

/** Few attempts and a short wait: a person is waiting at the terminal, and an unverifiable caller is refused anyway. */
const ATTEMPTS = 2;
const REQUEST_TIMEOUT_MS = 10_000;

/** The ARN of the caller, as STS says it; AWS_DENIED without usable credentials, AWS_UNAVAILABLE when STS cannot be reached. */
export async function callerArn(settings: CallerIdentitySettings): Promise<string> {
  const client = new STSClient({
    region: settings.region,
    maxAttempts: ATTEMPTS,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
  });
  try {
    const { Arn: arn } = await client.send(new GetCallerIdentityCommand({}));
    if (arn === undefined || arn === "")
      throw new BreakglassError("AWS_FAILED", "sts:GetCallerIdentity", "answered without an ARN");
    return arn;
  } catch (error) {
    if (error instanceof BreakglassError) throw error;
    throw new BreakglassError(awsErrorCode(error), "sts:GetCallerIdentity", describeError(error), { cause: error });
  } finally {
    client.destroy();
  }
}
