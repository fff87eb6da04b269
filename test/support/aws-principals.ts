// Distinct AWS principals in moto for identity tests (IAM users with their own access keys, assumed-role sessions), and
// a way to run the in-process CLI with one of them as the default credential chain would find it.
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID } from "./moto.js";

/** What a person's terminal holds: the environment variables of their credentials. */
export interface TestPrincipal {
  /** The ARN sts:GetCallerIdentity returns for these credentials. */
  readonly arn: string;
  readonly credentials: {
    readonly AWS_ACCESS_KEY_ID: string;
    readonly AWS_SECRET_ACCESS_KEY: string;
    readonly AWS_SESSION_TOKEN?: string;
  };
}

/** An IAM user with an access key of its own: moto answers GetCallerIdentity with the user's ARN for it. */
export async function iamUserPrincipal(endpoint: string, userName: string): Promise<TestPrincipal> {
  const iam = new IAMClient(awsClientConfig(endpoint));
  const user = await iam.send(new CreateUserCommand({ UserName: userName }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
  if (user.User?.Arn === undefined || key?.AccessKeyId === undefined || key.SecretAccessKey === undefined)
    throw new Error(`moto made no access key for ${userName}`);
  return {
    arn: user.User.Arn,
    credentials: { AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey },
  };
}

/** A session of the role under this session name: GetCallerIdentity says arn:aws:sts::<account>:assumed-role/<name>/<session>. */
export async function roleSessionPrincipal(
  endpoint: string,
  roleArn: string,
  sessionName: string,
): Promise<TestPrincipal> {
  const issued = (
    await new STSClient(awsClientConfig(endpoint)).send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }),
    )
  ).Credentials;
  if (issued?.AccessKeyId === undefined || issued.SecretAccessKey === undefined || issued.SessionToken === undefined)
    throw new Error(`moto issued no session of ${roleArn}`);
  const roleName = roleArn.split("/").at(-1) ?? "";
  const account = /::(\d{12}):/.exec(roleArn)?.[1] ?? "";
  return {
    arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`,
    credentials: {
      AWS_ACCESS_KEY_ID: issued.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: issued.SecretAccessKey,
      AWS_SESSION_TOKEN: issued.SessionToken,
    },
  };
}

const CREDENTIAL_VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_CONFIG_FILE",
  "AWS_EC2_METADATA_DISABLED",
  "AWS_ENDPOINT_URL",
] as const;

/**
 * Runs `work` (an in-process CLI command) with the process's credentials those of `principal`, as that person's own
 * terminal would have them; "none" leaves the default chain nothing to find. Extra variables (AWS_ENDPOINT_URL) too.
 */
export async function asPrincipal<T>(
  principal: TestPrincipal | "none" | undefined,
  work: () => Promise<T>,
  extra: Record<string, string> = {},
): Promise<T> {
  if (principal === undefined && Object.keys(extra).length === 0) return work();
  const saved = Object.fromEntries(CREDENTIAL_VARIABLES.map((name) => [name, process.env[name]]));
  if (principal !== undefined)
    for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"])
      delete process.env[name];
  if (principal === "none") {
    // Nothing in the environment, no files, no instance metadata: the chain fails at once.
    Object.assign(process.env, {
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
      AWS_CONFIG_FILE: "/nonexistent/config",
      AWS_EC2_METADATA_DISABLED: "true",
    });
  } else if (principal !== undefined) {
    Object.assign(process.env, principal.credentials);
  }
  Object.assign(process.env, extra);
  try {
    return await work();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** breakglass.yaml's aws section for the emulator's one account: its emergency SAML provider and Identity Center. */
export function motoAwsYamlLines(providerArn: string, instanceArn: string): string[] {
  return [
    "aws:",
    "  region: us-east-1",
    "  emergencyAccount:",
    `    accountId: "${MOTO_DEFAULT_ACCOUNT_ID}"`,
    `    samlProviders: [${providerArn}]`,
    "  identityCenter:",
    `    instanceArn: ${instanceArn}`,
    "    region: us-east-1",
  ];
}

/** breakglass.yaml lines naming each person by their IAM user, all of them allowed to run and approve. */
export function peopleYamlLines(people: Readonly<Record<string, TestPrincipal>>): string[] {
  const names = Object.keys(people);
  return [
    "people:",
    ...Object.entries(people).flatMap(([name, principal]) => [
      `  - name: ${name}`,
      "    aws:",
      `      - userArn: ${principal.arn}`,
    ]),
    "access:",
    `  run: [${names.join(", ")}]`,
    `  approve: [${names.join(", ")}]`,
  ];
}

/**
 * The principal of the person a command line names with --as: each person runs the CLI with their own credentials.
 * Undefined for a command without --as (a check, a status), which keeps the process's credentials.
 */
export function principalNamedIn(
  args: readonly string[],
  people: Readonly<Record<string, TestPrincipal>>,
): TestPrincipal | undefined {
  const at = args.indexOf("--as");
  if (at < 0) return undefined;
  const name = args[at + 1] ?? "";
  const principal = people[name];
  if (principal === undefined) throw new Error(`no test principal for --as ${name}`);
  return principal;
}
