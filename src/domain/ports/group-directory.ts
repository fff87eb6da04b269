// The port for the IdP's emergency groups (FM3): find a responder, list, add and remove members. No I/O here.

/** A user as the IdP holds it, reduced to what a responder and the audit log need. */
export interface DirectoryUser {
  readonly id: string;
  /** The sign-in name: SCIM userName, Okta profile.login, Graph userPrincipalName. */
  readonly login: string;
  readonly email: string | null;
  readonly displayName: string | null;
  /** Whether the account is enabled; a disabled responder cannot sign in even once added to a group. */
  readonly active: boolean;
}

/** A group as the IdP holds it: its id, which the API is called with, and the name people know it by. */
export interface DirectoryGroup {
  readonly id: string;
  /** SCIM displayName, Okta profile.name, Graph displayName. */
  readonly displayName: string;
  /**
   * Why breakglass cannot change this group's members through the API, when the group's type says so (an Okta app or
   * built-in group, a Graph dynamic, mail-enabled, synced or role-assignable group): refused at preflight, not at apply.
   */
  readonly unmodifiable?: string;
}

export interface GroupDirectory {
  readonly kind: "scim" | "okta" | "graph";
  /**
   * The group whose display name equals the query, ignoring case, or whose id is the query itself; null when none is;
   * a USAGE error naming the candidates when several are (two groups of one name, or a name that is another group's id).
   */
  findGroup(nameOrId: string): Promise<DirectoryGroup | null>;
  /** Exact, case-insensitive match on the login or an email address; null when nobody matches; an error when several users do. */
  findUser(loginOrEmail: string): Promise<DirectoryUser | null>;
  /** Every direct member, all pages read. */
  listMembers(groupId: string): Promise<DirectoryUser[]>;
  /** Idempotent: adding a user who is already a member succeeds. */
  addMember(groupId: string, userId: string): Promise<void>;
  /** Idempotent: removing a user who is not a member succeeds. */
  removeMember(groupId: string, userId: string): Promise<void>;
}

/** A user from a search answer, with every name the user can be found by (a SCIM user may have several emails). */
export interface UserCandidate {
  readonly user: DirectoryUser;
  readonly names: readonly (string | null)[];
}

/**
 * The distinct users one of whose names equals the query, ignoring case. IdPs compare logins and addresses without case,
 * but we check again here rather than trust a server's filter: adding the wrong person to an emergency group is the
 * failure that matters most.
 */
export function exactMatches(candidates: readonly UserCandidate[], loginOrEmail: string): DirectoryUser[] {
  const wanted = loginOrEmail.toLowerCase();
  const matches = new Map<string, DirectoryUser>();
  for (const { user, names } of candidates) {
    if (names.some((name) => name !== null && name.toLowerCase() === wanted)) matches.set(user.id, user);
  }
  return [...matches.values()];
}

/** How a list of users reads in a one-line message: "alice@example.com (00u1), alice.b@example.com (00u2)". */
export function describeUsers(users: readonly DirectoryUser[]): string {
  return users.map((user) => `${user.login} (${user.id})`).join(", ");
}

/**
 * The distinct groups named as the query (ignoring case, checked here rather than trusting the server's filter) or whose
 * id is exactly the query, in the order found.
 */
export function exactGroupMatches(candidates: readonly DirectoryGroup[], nameOrId: string): DirectoryGroup[] {
  const wanted = nameOrId.toLowerCase();
  const matches = new Map<string, DirectoryGroup>();
  for (const group of candidates) {
    if (group.id === nameOrId || group.displayName.toLowerCase() === wanted) matches.set(group.id, group);
  }
  return [...matches.values()];
}

/** How a group reads in a message: "aws-emergency-operators (g1)". */
export function describeGroup(group: DirectoryGroup): string {
  return `${group.displayName} (${group.id})`;
}

/** How a person reads in a message: their login, and their name when the IdP has one: "ana@example.com (Ana Silva)". */
export function describePerson(user: DirectoryUser): string {
  return user.displayName === null || user.displayName === "" ? user.login : `${user.login} (${user.displayName})`;
}
