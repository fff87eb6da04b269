// The principal runbook actions change AWS as: the configured action role in the emergency account (assumed), or the
// default credential chain, in either case checked with sts:GetCallerIdentity to be in the emergency account.
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { BreakglassError, describeError } from "../../domain/errors.js";
import { accountOfArn } from "../../domain/shared/arn.js";
import { awsErrorCode } from "./aws-error.js";
import type { AwsClients, Credentials } from "./aws-clients.js";

export const ACTION_ROLE_KEY = "aws.emergencyAccount.actionRoleArn";
const ACCOUNT_KEY = "aws.emergencyAccount.accountId";

export interface ActionPrincipalSettings {
  /** aws.emergencyAccount.accountId; undefined without an aws section (then no AWS action can apply). */
  readonly emergencyAccountId: string | undefined;
  /** aws.emergencyAccount.actionRoleArn: the role actions are applied as; undefined means the default chain. */
  readonly actionRoleArn: string | undefined;
}

export interface ActingPrincipal {
  /** Who AWS says the credentials are (sts:GetCallerIdentity): an assumed-role session or an IAM user. */
  readonly callerArn: string;
  /** The IAM role or user whose policies decide (the configured role, or the caller's); undefined when none can be named (root). */
  readonly policySourceArn: string | undefined;
  readonly accountId: string;
  readonly credentials: Credentials;
  /** How messages name it: `arn:aws:iam::210987654321:role/breakglass-action in account 210987654321`. */
  readonly description: string;
}

/**
 * Resolves the acting principal on each call (a long-running serve may see its default credentials change); the
 * assumed role's credentials are kept and renewed by AwsClients. Refuses credentials of another account, naming
 * both accounts and the config key, so an action never looks for the emergency providers in the wrong place.
 */
export function actionPrincipal(
  clients: AwsClients,
  settings: ActionPrincipalSettings,
): () => Promise<ActingPrincipal> {
  const { emergencyAccountId, actionRoleArn } = settings;
  const roleCredentials = actionRoleArn === undefined ? undefined : clients.assumeRole(actionRoleArn, "runbook-action");
  return async () => {
    if (emergencyAccountId === undefined)
      throw new BreakglassError("USAGE", ACCOUNT_KEY, "is not configured: no AWS action can apply");
    const callerArn = await whoIs(clients, roleCredentials, actionRoleArn);
    const accountId = accountOfArn(callerArn) ?? "an unknown account";
    if (accountId !== emergencyAccountId) {
      const input = actionRoleArn ?? "the default AWS credentials";
      throw new BreakglassError(
        "AWS_DENIED",
        input,
        actionRoleArn === undefined
          ? `are ${callerArn} in account ${accountId}, not in the emergency account ${emergencyAccountId} (${ACCOUNT_KEY}); ` +
              `set ${ACTION_ROLE_KEY} to a role there for breakglass to assume, or use that account's credentials`
          : `was assumed as ${callerArn} in account ${accountId}, not in the emergency account ${emergencyAccountId} (${ACCOUNT_KEY}); fix ${ACTION_ROLE_KEY}`,
      );
    }
    const policySourceArn = actionRoleArn ?? policySourceOf(callerArn);
    return {
      callerArn,
      policySourceArn,
      accountId,
      credentials: roleCredentials,
      description: `${policySourceArn ?? callerArn} in account ${accountId}`,
    };
  };
}

async function whoIs(clients: AwsClients, credentials: Credentials, roleArn: string | undefined): Promise<string> {
  const sts = clients.stsClient(credentials);
  try {
    const { Arn: arn } = await clients.call("sts", () => sts.send(new GetCallerIdentityCommand({})));
    if (arn === undefined || arn === "")
      throw new BreakglassError("AWS_FAILED", "sts:GetCallerIdentity", "answered without an ARN");
    return arn;
  } catch (error) {
    if (error instanceof BreakglassError) throw error;
    if (roleArn === undefined)
      throw new BreakglassError(
        awsErrorCode(error),
        "the default AWS credentials",
        `cannot tell whose they are (sts:GetCallerIdentity): ${describeError(error)}`,
        { cause: error },
      );
    throw new BreakglassError(
      awsErrorCode(error),
      `${ACTION_ROLE_KEY} ${roleArn}`,
      `cannot be assumed with ${await defaultCaller(clients)}: ${describeError(error)}; ` +
        `its trust policy must name that principal (iam/action-role-trust-policy.json)`,
      { cause: error },
    );
  } finally {
    sts.destroy();
  }
}

/** The default chain's principal, for a message about a role it could not assume. */
async function defaultCaller(clients: AwsClients): Promise<string> {
  const sts = clients.stsClient(undefined);
  try {
    const { Arn: arn } = await sts.send(new GetCallerIdentityCommand({}));
    return `the default AWS credentials (${arn ?? "unknown"})`;
  } catch {
    return "the default AWS credentials (whose sts:GetCallerIdentity failed too)";
  } finally {
    sts.destroy();
  }
}

/**
 * The IAM identity whose policies apply to a caller: an IAM user as it is, an assumed-role session's role (without
 * its path, which the session ARN does not carry), nothing for root or a federated user.
 */
export function policySourceOf(callerArn: string): string | undefined {
  const user = /^arn:([^:]+):iam::(\d{12}):user\/.+$/.exec(callerArn);
  if (user) return callerArn;
  const session = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  if (session) return `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`;
  return undefined;
}
