// Direct federation as a game day tests it: sts:AssumeRoleWithSAML with an IdP's SAML response, which needs no AWS
// credentials (the response is the credential). Only what an evidence report may keep comes back: never the secret.
import { AssumeRoleWithSAMLCommand, STSClient } from "@aws-sdk/client-sts";
import { BreakglassError, describeError } from "../../domain/errors.js";
import { awsErrorCode } from "./aws-error.js";

export interface SamlFederationRequest {
  readonly region: string;
  readonly roleArn: string;
  readonly providerArn: string;
  /** The base64 SAML Response, as the IdP posts it to AWS. */
  readonly samlResponse: string;
  readonly durationSeconds: number;
}

export interface SamlFederationResult {
  /** The assumed role's session ARN (arn:aws:sts::<account>:assumed-role/<role>/<session name>). */
  readonly assumedRoleArn: string;
  /** The first 8 characters of the access key id: enough to find the session in CloudTrail, useless to anyone else. */
  readonly accessKeyIdPrefix: string;
  readonly expiration: string;
}

/** Calls AssumeRoleWithSAML once (a drill must not retry a one-time response); AWS_DENIED when AWS refuses it. */
export async function assumeRoleWithSaml(request: SamlFederationRequest): Promise<SamlFederationResult> {
  const client = new STSClient({
    region: request.region,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000, throwOnRequestTimeout: true },
  });
  try {
    const answer = await client.send(
      new AssumeRoleWithSAMLCommand({
        RoleArn: request.roleArn,
        PrincipalArn: request.providerArn,
        SAMLAssertion: request.samlResponse,
        DurationSeconds: request.durationSeconds,
      }),
    );
    const accessKeyId = answer.Credentials?.AccessKeyId;
    if (accessKeyId === undefined || answer.AssumedRoleUser?.Arn === undefined)
      throw new BreakglassError("AWS_FAILED", "sts:AssumeRoleWithSAML", "answered without credentials");
    return {
      assumedRoleArn: answer.AssumedRoleUser.Arn,
      accessKeyIdPrefix: accessKeyId.slice(0, 8),
      expiration: answer.Credentials?.Expiration?.toISOString() ?? "",
    };
  } catch (error) {
    if (error instanceof BreakglassError) throw error;
    throw new BreakglassError(awsErrorCode(error), "sts:AssumeRoleWithSAML", describeError(error), { cause: error });
  } finally {
    client.destroy();
  }
}
