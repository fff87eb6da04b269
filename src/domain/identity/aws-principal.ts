// What sts:GetCallerIdentity says about the caller, normalised to what a person is configured as: an IAM user ARN, or an
// IAM role and the session name an assumed-role session carries.

export type AwsPrincipal =
  | { readonly kind: "user"; readonly arn: string }
  | {
      readonly kind: "role-session";
      readonly partition: string;
      readonly account: string;
      readonly roleName: string;
      readonly sessionName: string;
    };

// arn:aws:sts::111122223333:assumed-role/Role/session (the role's path is not in it: AWS drops it).
const ASSUMED_ROLE = /^arn:(aws(?:-cn|-us-gov)?):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/;
const IAM_USER = /^arn:(aws(?:-cn|-us-gov)?):iam::(\d{12}):user\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const ROLE_ARN = /^arn:(aws(?:-cn|-us-gov)?):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

/** The principal behind a caller ARN, or undefined for one no person can be configured as (root, federated users). */
export function principalOfCallerArn(arn: string): AwsPrincipal | undefined {
  const session = ASSUMED_ROLE.exec(arn);
  if (session !== null) {
    const [, partition, account, roleName, sessionName] = session as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    return { kind: "role-session", partition, account, roleName, sessionName };
  }
  if (IAM_USER.test(arn)) return { kind: "user", arn };
  return undefined;
}

/** How a principal is written in person ids and messages: the user ARN, or "<role ARN without path> session <name>". */
export function describePrincipal(principal: AwsPrincipal): string {
  if (principal.kind === "user") return principal.arn;
  return `arn:${principal.partition}:iam::${principal.account}:role/${principal.roleName} session ${principal.sessionName}`;
}

/** A configured principal: an IAM user ARN, or a role ARN (any path) with the session name a person assumes it with. */
export type ConfiguredPrincipal =
  { readonly userArn: string } | { readonly roleArn: string; readonly sessionName: string };

/** Whether the caller is this configured principal. Roles compare by partition, account and name: a session ARN has no path. */
export function principalMatches(caller: AwsPrincipal, configured: ConfiguredPrincipal): boolean {
  if ("userArn" in configured) return caller.kind === "user" && caller.arn === configured.userArn;
  if (caller.kind !== "role-session" || caller.sessionName !== configured.sessionName) return false;
  const role = ROLE_ARN.exec(configured.roleArn);
  return role !== null && role[1] === caller.partition && role[2] === caller.account && role[3] === caller.roleName;
}
