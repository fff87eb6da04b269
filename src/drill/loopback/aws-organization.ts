// Builds a realistic organization in the AWS emulator: management, emergency and workload accounts, SCPs, roles, a SAML provider, a trail and rules.
import { readFileSync } from "node:fs";
import { CloudTrailClient, CreateTrailCommand, StartLoggingCommand } from "@aws-sdk/client-cloudtrail";
import { EventBridgeClient, PutRuleCommand } from "@aws-sdk/client-eventbridge";
import { CreateRoleCommand, CreateSAMLProviderCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import {
  AttachPolicyCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  CreatePolicyCommand,
  EnablePolicyTypeCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { ListInstancesCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { BreakglassError } from "../../domain/errors.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID } from "./moto.js";

export const REGION = "us-east-1";
export const CROSS_ACCOUNT_ROLE = "EmergencyAccess";
export const READ_ROLE = "breakglass-read";
export const EMERGENCY_ROLE = "EmergencyAdmin";
export const SAML_PROVIDER = "EmergencyIdP";

export interface TestOrganization {
  readonly managementAccountId: string;
  readonly emergencyAccountId: string;
  readonly workloadAccountIds: readonly string[];
  readonly rootId: string;
  readonly workloadOuId: string;
  readonly protectionPolicyId: string;
  readonly samlProviderArn: string;
  readonly emergencyRoleArn: string;
  readonly instanceArn: string;
  readonly trailName: string;
  readonly signInRuleName: string;
  readonly roleUseRuleName: string;
  /** SDK config for acting inside `accountId` (credentials of an assumed role in that account). */
  configFor(accountId: string): Promise<ReturnType<typeof awsClientConfig>>;
}

/**
 * The `aws:` section of breakglass.yaml for this organization: the emergency account read through `readerRoleName`,
 * Identity Center (read through `identityCenterRoleArn`, when given), and every workload account (Organizations read through `managementRoleArn`, when given).
 */
export function awsConfigSection(
  organization: TestOrganization,
  options: {
    readerRoleName: string;
    managementRoleArn?: string;
    identityCenterRoleArn?: string;
    emergencyUsers?: readonly string[];
  },
): string {
  return [
    "aws:",
    `  region: ${REGION}`,
    "  emergencyAccount:",
    `    accountId: "${organization.emergencyAccountId}"`,
    `    roleArn: arn:aws:iam::${organization.emergencyAccountId}:role/${options.readerRoleName}`,
    `    samlProviders: [${organization.samlProviderArn}]`,
    `    emergencyRoles: [${organization.emergencyRoleArn}]`,
    ...(options.emergencyUsers === undefined ? [] : [`    emergencyUsers: [${options.emergencyUsers.join(", ")}]`]),
    "  identityCenter:",
    `    instanceArn: ${organization.instanceArn}`,
    `    region: ${REGION}`,
    ...(options.identityCenterRoleArn === undefined
      ? []
      : [`    accountId: "${organization.managementAccountId}"`, `    roleArn: ${options.identityCenterRoleArn}`]),
    "  organization:",
    ...(options.managementRoleArn === undefined ? [] : [`    managementRoleArn: ${options.managementRoleArn}`]),
    `    crossAccountRoleName: ${CROSS_ACCOUNT_ROLE}`,
    `    readRoleName: ${READ_ROLE}`,
    "    accounts: all",
    "",
  ].join("\n");
}

export const emergencyRoleTrust = (samlProviderArn: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: samlProviderArn },
        Action: "sts:AssumeRoleWithSAML",
        Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
      },
    ],
  });

export const crossAccountTrust = (emergencyRoleArn: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: emergencyRoleArn }, Action: "sts:AssumeRole" }],
  });

const PROTECTION_SCP = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "ProtectEmergencyAccessRole",
      Effect: "Deny",
      Action: [
        "iam:DeleteRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:UpdateRole",
      ],
      Resource: `arn:aws:iam::*:role/${CROSS_ACCOUNT_ROLE}`,
      Condition: { ArnNotLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/stacksets-exec-*" } },
    },
  ],
});

/** The least-privilege policies the project ships in iam/, as text. */
export function shippedPolicy(file: string): string {
  return readFileSync(new URL(`../../../iam/${file}`, import.meta.url), "utf8");
}

const SIGN_IN_PATTERN = JSON.stringify({
  source: ["aws.signin"],
  "detail-type": ["AWS Console Sign In via CloudTrail"],
});

export async function buildOrganization(
  endpoint: string,
  options: { workloadAccounts: number; idpMetadata: string },
): Promise<TestOrganization> {
  const management = awsClientConfig(endpoint, REGION);
  const organizations = new OrganizationsClient(management);
  await organizations.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
  const rootId = (await organizations.send(new ListRootsCommand({}))).Roots?.[0]?.Id as string;
  await organizations.send(new EnablePolicyTypeCommand({ RootId: rootId, PolicyType: "SERVICE_CONTROL_POLICY" }));
  const createAccount = async (name: string) =>
    (await organizations.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.test` })))
      .CreateAccountStatus?.AccountId as string;
  const emergencyAccountId = await createAccount("emergency");
  const workloadOuId = (
    await organizations.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: "Workloads" }))
  ).OrganizationalUnit?.Id as string;
  const workloadAccountIds: string[] = [];
  for (let index = 0; index < options.workloadAccounts; index++) {
    const accountId = await createAccount(`workload-${index}`);
    await organizations.send(
      new MoveAccountCommand({ AccountId: accountId, SourceParentId: rootId, DestinationParentId: workloadOuId }),
    );
    workloadAccountIds.push(accountId);
  }
  const protectionPolicyId = (
    await organizations.send(
      new CreatePolicyCommand({
        Name: "protect-emergency-access",
        Description: "Deny changing the emergency access role",
        Type: "SERVICE_CONTROL_POLICY",
        Content: PROTECTION_SCP,
      }),
    )
  ).Policy?.PolicySummary?.Id as string;
  await organizations.send(new AttachPolicyCommand({ PolicyId: protectionPolicyId, TargetId: workloadOuId }));

  const sts = new STSClient(management);
  const configFor = async (accountId: string) => {
    const { Credentials: issued } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`,
        RoleSessionName: "test-setup",
      }),
    );
    return {
      ...management,
      credentials: {
        accessKeyId: issued?.AccessKeyId as string,
        secretAccessKey: issued?.SecretAccessKey as string,
        sessionToken: issued?.SessionToken as string,
      },
    };
  };

  // The emergency account: the SAML provider, the emergency role, a logging trail and the alerting rules.
  const emergency = await configFor(emergencyAccountId);
  const emergencyIam = new IAMClient(emergency);
  const samlProviderArn = (
    await emergencyIam.send(
      new CreateSAMLProviderCommand({ Name: SAML_PROVIDER, SAMLMetadataDocument: options.idpMetadata }),
    )
  ).SAMLProviderArn as string;
  const emergencyRoleArn = (
    await emergencyIam.send(
      new CreateRoleCommand({
        RoleName: EMERGENCY_ROLE,
        AssumeRolePolicyDocument: emergencyRoleTrust(samlProviderArn),
      }),
    )
  ).Role?.Arn as string;
  const trailName = "emergency-account-trail";
  const bucket = `breakglass-trail-${emergencyAccountId}`;
  await createBucket(endpoint, bucket, emergencyAccountId);
  const cloudTrail = new CloudTrailClient(emergency);
  await cloudTrail.send(new CreateTrailCommand({ Name: trailName, S3BucketName: bucket, IsMultiRegionTrail: true }));
  await cloudTrail.send(new StartLoggingCommand({ Name: trailName }));
  const eventBridge = new EventBridgeClient(emergency);
  const signInRuleName = "alert-console-sign-in";
  const roleUseRuleName = "alert-emergency-role-use";
  await eventBridge.send(new PutRuleCommand({ Name: signInRuleName, EventPattern: SIGN_IN_PATTERN, State: "ENABLED" }));
  await eventBridge.send(
    new PutRuleCommand({
      Name: roleUseRuleName,
      State: "ENABLED",
      EventPattern: JSON.stringify({
        "detail-type": ["AWS API Call via CloudTrail"],
        detail: { userIdentity: { sessionContext: { sessionIssuer: { arn: [emergencyRoleArn] } } } },
      }),
    }),
  );

  // Every workload account: the role breakglass reads with, and the cross-account emergency role.
  for (const accountId of workloadAccountIds) {
    const iam = new IAMClient(await configFor(accountId));
    await iam.send(
      new CreateRoleCommand({
        RoleName: READ_ROLE,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${MOTO_DEFAULT_ACCOUNT_ID}:root` },
              Action: "sts:AssumeRole",
            },
          ],
        }),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: READ_ROLE,
        PolicyName: "breakglass-read",
        PolicyDocument: shippedPolicy("workload-read-role-policy.json"),
      }),
    );
    await iam.send(
      new CreateRoleCommand({
        RoleName: CROSS_ACCOUNT_ROLE,
        AssumeRolePolicyDocument: crossAccountTrust(emergencyRoleArn),
      }),
    );
  }

  const instanceArn = (await new SSOAdminClient(management).send(new ListInstancesCommand({}))).Instances?.[0]
    ?.InstanceArn as string;
  return {
    managementAccountId: MOTO_DEFAULT_ACCOUNT_ID,
    emergencyAccountId,
    workloadAccountIds,
    rootId,
    workloadOuId,
    protectionPolicyId,
    samlProviderArn,
    emergencyRoleArn,
    instanceArn,
    trailName,
    signInRuleName,
    roleUseRuleName,
    configFor,
  };
}

/** CloudTrail needs an existing S3 bucket; the S3 client is not a dependency, so one signed-looking PUT makes it. */
async function createBucket(endpoint: string, bucket: string, accountId: string): Promise<void> {
  const response = await fetch(`${endpoint}/${bucket}`, {
    method: "PUT",
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20261125/${REGION}/s3/aws4_request, SignedHeaders=host, Signature=0`,
      "x-moto-account-id": accountId,
    },
  });
  if (!response.ok)
    throw new BreakglassError(
      "AWS_FAILED",
      bucket,
      `creating the bucket failed: HTTP ${response.status} ${await response.text()}`,
    );
}
