// Reads IAM policy documents as AWS returns them (URL-encoded trust policies, plain-JSON SCPs) into one normalised
// model, and matches actions and ARNs the way IAM does.

export type PolicyEffect = "Allow" | "Deny";

export interface PolicyPrincipals {
  /** `"Principal": "*"` or `{"AWS": "*"}`: every principal, in every account. */
  readonly any: boolean;
  /** ARNs, bare account IDs, or the unique IDs (AROA…, AIDA…) IAM shows for deleted principals. */
  readonly aws: readonly string[];
  readonly federated: readonly string[];
  readonly service: readonly string[];
  readonly canonicalUser: readonly string[];
}

export interface PolicyCondition {
  /** The operator as written, e.g. `StringEquals` or `ForAnyValue:StringLike`. */
  readonly operator: string;
  /** The context key as written; IAM compares keys case-insensitively, so use conditionsOnKey to find one. */
  readonly key: string;
  /** The values, as strings (IAM compares booleans and numbers by their text too). */
  readonly values: readonly string[];
}

export interface PolicyStatement {
  readonly sid?: string;
  readonly effect: PolicyEffect;
  /** null when the statement has no Principal (identity policies and SCPs). */
  readonly principals: PolicyPrincipals | null;
  readonly notPrincipals: PolicyPrincipals | null;
  /** Exactly one of actions and notActions is non-null. */
  readonly actions: readonly string[] | null;
  readonly notActions: readonly string[] | null;
  /** Both null in a trust policy, which has no Resource. */
  readonly resources: readonly string[] | null;
  readonly notResources: readonly string[] | null;
  readonly conditions: readonly PolicyCondition[];
}

export type PolicyParseResult =
  | { readonly ok: true; readonly version: string | null; readonly statements: readonly PolicyStatement[] }
  /** reason: a short lowercase clause without a final period, to be quoted inside a finding's sentence. */
  | { readonly ok: false; readonly reason: string };

/** Why a document is not a policy; thrown only inside this module and turned into a PolicyParseResult. */
class PolicyFormatError extends Error {}

const PRINCIPAL_TYPES = {
  AWS: "aws",
  Federated: "federated",
  Service: "service",
  CanonicalUser: "canonicalUser",
} as const;

/** Parses a policy document in any form AWS hands it out; never throws. */
export function parsePolicyDocument(text: string): PolicyParseResult {
  const json = decodePolicyText(text);
  if (json === undefined) return { ok: false, reason: "it is neither JSON nor URL-encoded JSON" };
  try {
    return { ok: true, ...readPolicy(json) };
  } catch (error) {
    if (error instanceof PolicyFormatError) return { ok: false, reason: error.message };
    throw error;
  }
}

/**
 * IAM's GetRole returns the trust policy URL-encoded (RFC 3986, so a space is %20 and a literal + stays +),
 * while Organizations returns SCPs as plain JSON. Plain JSON is tried first, because decoding it would turn
 * a `%41` inside a value into `A`; a form-encoded copy (+ for space) is only the last resort.
 */
function decodePolicyText(text: string): unknown {
  const trimmed = text.replace(/^\uFEFF/, "").trim();
  const candidates = [
    () => trimmed,
    () => decodeURIComponent(trimmed),
    () => decodeURIComponent(trimmed.replace(/\+/g, " ")),
  ];
  for (const candidate of candidates) {
    try {
      return JSON.parse(candidate()) as unknown;
    } catch {
      // Not this encoding (a SyntaxError, or a URIError from a stray %): try the next one.
    }
  }
  return undefined;
}

function readPolicy(json: unknown): { version: string | null; statements: PolicyStatement[] } {
  if (!isRecord(json)) throw new PolicyFormatError("it is not a JSON object");
  const version = json.Version;
  if (version !== undefined && typeof version !== "string") throw new PolicyFormatError("its Version is not a string");
  const statement = json.Statement;
  if (statement === undefined) throw new PolicyFormatError("it has no Statement");
  const list: unknown[] = Array.isArray(statement) ? statement : [statement];
  return { version: version ?? null, statements: list.map((entry, index) => readStatement(entry, index)) };
}

function readStatement(json: unknown, index: number): PolicyStatement {
  if (!isRecord(json)) throw new PolicyFormatError(`statement ${index + 1} is not a JSON object`);
  const sid = json.Sid;
  if (sid !== undefined && typeof sid !== "string")
    throw new PolicyFormatError(`statement ${index + 1} has a Sid that is not a string`);
  const where = sid ? `statement "${sid}"` : `statement ${index + 1}`;

  const effect = json.Effect;
  if (effect !== "Allow" && effect !== "Deny") {
    throw new PolicyFormatError(`${where} has Effect ${JSON.stringify(effect) ?? "missing"}, not "Allow" or "Deny"`);
  }
  const [actions, notActions] = readExclusivePair(json, "Action", "NotAction", where, (value, name) =>
    readStringList(value, `${where} ${name}`),
  );
  if (actions === null && notActions === null) throw new PolicyFormatError(`${where} has neither Action nor NotAction`);
  const [resources, notResources] = readExclusivePair(json, "Resource", "NotResource", where, (value, name) =>
    readStringList(value, `${where} ${name}`),
  );
  const [principals, notPrincipals] = readExclusivePair(json, "Principal", "NotPrincipal", where, (value, name) =>
    readPrincipals(value, `${where} ${name}`),
  );

  return {
    ...(sid ? { sid } : {}),
    effect,
    principals,
    notPrincipals,
    actions,
    notActions,
    resources,
    notResources,
    conditions: json.Condition === undefined ? [] : readConditions(json.Condition, where),
  };
}

/** IAM refuses a statement with both an element and its Not- form (Action and NotAction, say). */
function readExclusivePair<T>(
  json: Record<string, unknown>,
  name: string,
  notName: string,
  where: string,
  read: (value: unknown, name: string) => T,
): [T | null, T | null] {
  const value = json[name];
  const notValue = json[notName];
  if (value !== undefined && notValue !== undefined)
    throw new PolicyFormatError(`${where} has both ${name} and ${notName}`);
  return [value === undefined ? null : read(value, name), notValue === undefined ? null : read(notValue, notName)];
}

function readStringList(value: unknown, what: string): string[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (typeof item !== "string") throw new PolicyFormatError(`${what} holds ${describeJsonType(item)}, not a string`);
    return item;
  });
}

function readPrincipals(value: unknown, what: string): PolicyPrincipals {
  if (value === "*") return { any: true, aws: ["*"], federated: [], service: [], canonicalUser: [] };
  if (!isRecord(value)) throw new PolicyFormatError(`${what} is neither "*" nor an object`);
  const found = {
    aws: [] as string[],
    federated: [] as string[],
    service: [] as string[],
    canonicalUser: [] as string[],
  };
  for (const [type, entries] of Object.entries(value)) {
    if (!Object.hasOwn(PRINCIPAL_TYPES, type))
      throw new PolicyFormatError(`${what} has an unknown principal type "${type}"`);
    const field = PRINCIPAL_TYPES[type as keyof typeof PRINCIPAL_TYPES];
    // An account ID written as a JSON number is still an account ID.
    const list: unknown[] = Array.isArray(entries) ? entries : [entries];
    found[field] = list.map((entry) => {
      if (typeof entry === "string") return entry;
      if (typeof entry === "number" && Number.isInteger(entry)) return String(entry).padStart(12, "0");
      throw new PolicyFormatError(`${what} ${type} holds ${describeJsonType(entry)}, not a string`);
    });
  }
  return { any: found.aws.includes("*"), ...found };
}

function readConditions(value: unknown, where: string): PolicyCondition[] {
  if (!isRecord(value)) throw new PolicyFormatError(`${where} has a Condition that is not an object`);
  const conditions: PolicyCondition[] = [];
  for (const [operator, keys] of Object.entries(value)) {
    if (!isRecord(keys)) throw new PolicyFormatError(`${where} has a ${operator} condition that is not an object`);
    for (const [key, raw] of Object.entries(keys)) {
      const list: unknown[] = Array.isArray(raw) ? raw : [raw];
      const values = list.map((item) => {
        if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") return String(item);
        throw new PolicyFormatError(`${where} has a ${operator} ${key} value that is ${describeJsonType(item)}`);
      });
      conditions.push({ operator, key, values });
    }
  }
  return conditions;
}

/** The statement's conditions on one context key; IAM matches condition keys case-insensitively (SAML:aud = saml:aud). */
export function conditionsOnKey(statement: PolicyStatement, key: string): PolicyCondition[] {
  const wanted = key.toLowerCase();
  return statement.conditions.filter((condition) => condition.key.toLowerCase() === wanted);
}

/** An IAM action pattern against an action: `*` and `?` wildcards, case-insensitive (service prefix and name alike). */
export function actionMatches(pattern: string, action: string): boolean {
  return globToRegExp(pattern, "i").test(action);
}

/** Whether the statement's Action (or NotAction) covers `action`, whatever its Effect. */
export function statementCoversAction(statement: PolicyStatement, action: string): boolean {
  if (statement.actions) return statement.actions.some((pattern) => actionMatches(pattern, action));
  // NotAction covers every action it does not name.
  return statement.notActions !== null && !statement.notActions.some((pattern) => actionMatches(pattern, action));
}

/** Whether the statement is an Allow whose Action (or NotAction) covers `action`. */
export function statementAllowsAction(statement: PolicyStatement, action: string): boolean {
  return statement.effect === "Allow" && statementCoversAction(statement, action);
}

/** Whether the statement's Resource (or NotResource) covers `arn`; a statement with neither (a trust policy) covers its own resource. */
export function statementCoversResource(statement: PolicyStatement, arn: string): boolean {
  if (statement.resources) return statement.resources.some((pattern) => resourceMatches(pattern, arn));
  if (statement.notResources) return !statement.notResources.some((pattern) => resourceMatches(pattern, arn));
  return true;
}

/**
 * A Resource pattern against an ARN, as IAM documents it: case-sensitive; `*` and `?` match within one
 * colon-separated segment, except that a `*` ending a segment may run on past colons. The escapes `${*}`,
 * `${?}` and `${$}` stand for the literal character; any other policy variable cannot be resolved here, so it
 * matches only its own text (never more than IAM would).
 */
export function resourceMatches(pattern: string, arn: string): boolean {
  if (pattern === "*") return true;
  let source = "";
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern.charAt(index);
    const escape = /^\$\{([*?$])\}/.exec(pattern.slice(index));
    if (escape) {
      source += escapeRegExp(escape[1] ?? "");
      index += escape[0].length - 1;
    } else if (char === "*") {
      const next = pattern.charAt(index + 1);
      source += next === ":" || next === "" ? ".*" : "[^:]*";
    } else if (char === "?") {
      source += "[^:]";
    } else {
      source += escapeRegExp(char);
    }
  }
  return new RegExp(`^${source}$`, "s").test(arn);
}

/** Every principal a Principal element names, in one list, with "*" for everyone. */
export function listPrincipals(principals: PolicyPrincipals): string[] {
  return [
    ...(principals.any ? ["*"] : []),
    ...principals.aws.filter((entry) => entry !== "*"),
    ...principals.federated,
    ...principals.service,
    ...principals.canonicalUser,
  ];
}

function globToRegExp(pattern: string, flags: string): RegExp {
  const source = [...pattern].map((char) => (char === "*" ? ".*" : char === "?" ? "." : escapeRegExp(char))).join("");
  return new RegExp(`^${source}$`, `s${flags}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeJsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}
