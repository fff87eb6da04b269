// The preflight of idp.add-group-members and idp.remove-group-members against each IdP kind's loopback server (SCIM on
// scimmy, Okta, Microsoft Graph): groups by display name or id and responders by login or email, resolved before anyone
// approves; unknown, ambiguous and disabled ones named as problems, all at once.
import { createPublicKey, randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphGroupDirectory } from "../../../src/adapters/idp/graph-group-directory.js";
import { OktaGroupDirectory } from "../../../src/adapters/idp/okta-group-directory.js";
import { ScimGroupDirectory } from "../../../src/adapters/idp/scim-group-directory.js";
import {
  addGroupMembersExecutor,
  removeGroupMembersExecutor,
} from "../../../src/adapters/runbook-actions/group-membership.js";
import { openStore } from "../../../src/adapters/store/open-store.js";
import { missingGroupApi, needsGroupApi, openGroupDirectory } from "../../../src/application/idp-group-api.js";
import type { GroupDirectory } from "../../../src/domain/ports/group-directory.js";
import type { BreakglassStore } from "../../../src/domain/ports/store.js";
import type { ActionExecutor } from "../../../src/domain/runbooks/engine-ports.js";
import { freshKeyPair } from "../../support/certificates.js";
import { startGraphServer, type GraphTestServer } from "../../support/idp-graph-server.js";
import { startOktaServer, type OktaTestServer } from "../../support/idp-okta-server.js";
import { startScimServer, type ScimTestServer } from "../../support/idp-scim-server.js";
import { runContext } from "./run-context.js";

const TOKEN = "preflight-token-4c1e7a9b";

/** What every kind of directory is seeded with, under ids in that vendor's format. */
interface Seeded {
  readonly api: string;
  readonly directory: GroupDirectory;
  readonly operators: string;
  readonly ana: string;
  readonly ben: string;
}

interface Person {
  readonly id: string;
  readonly login: string;
  readonly email: string;
  readonly first: string;
  readonly last: string;
  readonly active: boolean;
}

let scim: ScimTestServer;
let okta: OktaTestServer;
let graph: GraphTestServer;
let store: BreakglassStore;
const seeded: Record<string, Seeded> = {};

function people(ids: { ana: string; ben: string }): Person[] {
  return [
    { id: ids.ana, login: "ana@example.com", email: "ana@example.com", first: "Ana", last: "Silva", active: true },
    // Ben's account is disabled: added to the group, he still could not sign in.
    { id: ids.ben, login: "ben@example.com", email: "ben@example.com", first: "Ben", last: "Okafor", active: false },
  ];
}

beforeAll(async () => {
  [scim, okta, graph] = await Promise.all([startScimServer(TOKEN), startOktaServer(TOKEN), startGraphServer(TOKEN)]);
  const options = { token: TOKEN, sleep: () => Promise.resolve() };

  const scimIds = { operators: randomUUID(), ana: randomUUID(), ben: randomUUID() };
  for (const person of people(scimIds))
    scim.store.addUser({
      id: person.id,
      userName: person.login,
      emails: [person.email],
      displayName: `${person.first} ${person.last}`,
      active: person.active,
    });
  scim.store.addGroup(scimIds.operators, "aws-emergency-operators");
  scim.store.addGroup(randomUUID(), "aws-emergency-twice");
  scim.store.addGroup(randomUUID(), "aws-emergency-twice");
  seeded["SCIM"] = {
    api: "SCIM",
    directory: new ScimGroupDirectory({ ...options, baseUrl: scim.baseUrl, ca: scim.ca }),
    ...scimIds,
  };

  const oktaIds = { operators: "00gOperators00000001", ana: "00uAnaSilva000000001", ben: "00uBenOkafor00000001" };
  for (const person of people(oktaIds))
    okta.users.set(person.id, {
      id: person.id,
      login: person.login,
      email: person.email,
      firstName: person.first,
      lastName: person.last,
      status: person.active ? "ACTIVE" : "SUSPENDED",
    });
  for (const [id, name] of [
    [oktaIds.operators, "aws-emergency-operators"],
    ["00gTwiceA00000000001", "aws-emergency-twice"],
    ["00gTwiceB00000000001", "aws-emergency-twice"],
  ] as const) {
    okta.groups.set(id, new Set());
    okta.groupNames.set(id, name);
  }
  seeded["Okta"] = {
    api: "Okta",
    directory: new OktaGroupDirectory({ ...options, baseUrl: okta.url, ca: okta.ca }),
    ...oktaIds,
  };

  const graphIds = { operators: randomUUID(), ana: randomUUID(), ben: randomUUID() };
  for (const person of people(graphIds))
    graph.users.set(person.id, {
      id: person.id,
      userPrincipalName: person.login,
      mail: person.email,
      displayName: `${person.first} ${person.last}`,
      accountEnabled: person.active,
    });
  for (const [id, name] of [
    [graphIds.operators, "aws-emergency-operators"],
    [randomUUID(), "aws-emergency-twice"],
    [randomUUID(), "aws-emergency-twice"],
  ] as const) {
    graph.groups.set(id, new Set());
    graph.groupNames.set(id, name);
  }
  seeded["Graph"] = {
    api: "Graph",
    directory: new GraphGroupDirectory({ ...options, baseUrl: graph.baseUrl, ca: graph.ca }),
    ...graphIds,
  };
  store = openStore({ path: join(mkdtempSync(join(tmpdir(), "breakglass-preflight-")), "breakglass.db") });
});

afterAll(async () => {
  store?.close();
  await Promise.all([scim?.close(), okta?.close(), graph?.close()]);
});

function executors(kind: string): { add: ActionExecutor; remove: ActionExecutor; idp: Seeded } {
  const idp = seeded[kind]!;
  return {
    add: addGroupMembersExecutor({ directory: idp.directory, store: store.leases }),
    remove: removeGroupMembersExecutor({ directory: idp.directory, store: store.leases }),
    idp,
  };
}

describe.each(["SCIM", "Okta", "Graph"])("%s: the preflight of the group actions", (kind) => {
  it("resolves the group by its display name, whatever its case, and each responder by login or email", async () => {
    const { add, idp } = executors(kind);
    await expect(
      add.preflight!({ groups: ["AWS-Emergency-Operators"], members: ["ANA@example.com"], ttl: "4h" }, runContext()),
    ).resolves.toEqual({
      facts: [
        `group aws-emergency-operators = ${idp.operators} (${idp.api})`,
        `responder ANA@example.com = Ana Silva (${idp.ana})`,
      ],
      problems: [],
    });
  });

  it("takes the group's id as well as its name", async () => {
    const { add, idp } = executors(kind);
    const found = await add.preflight!({ groups: [idp.operators], members: ["ana@example.com"] }, runContext());
    expect(found.facts[0]).toBe(`group aws-emergency-operators = ${idp.operators} (${idp.api})`);
    expect(found.problems).toEqual([]);
  });

  it("names every unknown or ambiguous group and person and every disabled responder at once", async () => {
    const { add } = executors(kind);
    const found = await add.preflight!(
      {
        groups: ["aws-emergency-operatorz", "aws-emergency-twice"],
        members: ["nobody@example.com", "ben@example.com"],
        ttl: "forever",
      },
      runContext(),
    );
    expect(found.problems).toEqual([
      `no group in the IdP (${kind}) has the name or id "aws-emergency-operatorz"`,
      expect.stringMatching(
        /^looking up group aws-emergency-twice: 2 groups match: aws-emergency-twice \(.+\), aws-emergency-twice \(.+\) \(name the group by its .*id.*\)$/,
      ),
      `no user in the IdP (${kind}) has the login or email "nobody@example.com"`,
      `responder ben@example.com (${executors(kind).idp.ben}) is disabled in the IdP: they could not sign in`,
      'ttl: expected a duration such as 30m, 4h or 1h30m, got "forever"',
    ]);
  });

  it("lets a removal name a disabled account, and says who `everyone` is now", async () => {
    const { remove, idp } = executors(kind);
    await expect(
      remove.preflight!({ groups: ["aws-emergency-operators"], members: ["ben@example.com"] }, runContext()),
    ).resolves.toMatchObject({ problems: [] });
    await idp.directory.addMember(idp.operators, idp.ana);
    try {
      await expect(
        remove.preflight!({ groups: ["aws-emergency-operators"], members: "everyone" }, runContext()),
      ).resolves.toEqual({
        facts: [
          `group aws-emergency-operators = ${idp.operators} (${idp.api})`,
          "everyone in aws-emergency-operators: now ana@example.com",
        ],
        problems: [],
      });
    } finally {
      await idp.directory.removeMember(idp.operators, idp.ana);
    }
  });
});

describe("without the IdP's group API", () => {
  const settings = {
    kind: "scim" as const,
    baseUrl: "https://idp.example.com/scim/v2",
    tokenVariable: "BREAKGLASS_IDP_TOKEN",
  };

  it("says which key or variable is missing", () => {
    expect(missingGroupApi(undefined, {})).toBe(
      "needs the IdP's group API, and breakglass.yaml has no idp.directory: set it (kind, baseUrl, tokenVariable)",
    );
    expect(missingGroupApi(settings, {})).toBe(
      "needs the IdP's group API, and the environment variable BREAKGLASS_IDP_TOKEN (idp.directory.tokenVariable) that holds its token is unset",
    );
  });

  it("with client credentials, names the client secret's variable instead of the unused token variable", () => {
    const auth = {
      kind: "client-credentials" as const,
      tokenUrl: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
      clientId: "4a1aa1d5-c567-49d0-ad0b-cd957a47f842",
      scope: "https://graph.microsoft.com/.default",
      clientSecretVariable: "BREAKGLASS_GRAPH_SECRET",
    };
    const withAuth = { ...settings, kind: "graph" as const, auth };
    expect(missingGroupApi(withAuth, { BREAKGLASS_IDP_TOKEN: "unused" })).toBe(
      "needs the IdP's group API, and the environment variable BREAKGLASS_GRAPH_SECRET " +
        "(idp.directory.auth.clientSecretVariable) that holds its client secret is unset",
    );
    expect(openGroupDirectory(withAuth, {})).toBeUndefined();
    expect(openGroupDirectory(withAuth, { BREAKGLASS_GRAPH_SECRET: "s3cret-value" })?.kind).toBe("graph");
  });

  it("refuses at the preflight with that reason, and fails every later attempt the same way", async () => {
    const reason = missingGroupApi(settings, {});
    const add = needsGroupApi("idp.add-group-members", reason);
    await expect(add.preflight!({ groups: ["aws-emergency-operators"] }, runContext())).resolves.toEqual({
      facts: [],
      problems: [reason],
    });
    await expect(add.plan({}, runContext())).rejects.toThrow(`idp.add-group-members: ${reason}`);
  });
});

describe("the group API as breakglass.yaml configures it", () => {
  it("with an Okta service app that requires DPoP, dpop: true in breakglass.yaml is all it takes", async () => {
    const folder = mkdtempSync(join(tmpdir(), "breakglass-dpop-"));
    const keys = freshKeyPair();
    writeFileSync(join(folder, "okta.pem"), keys.privateKeyPem);
    writeFileSync(join(folder, "ca.pem"), okta.ca);
    okta.oauth.register({
      clientId: "0oa1preflightdpop0000",
      publicKey: createPublicKey(keys.publicKeyPem),
      requireDpop: true,
    });
    const directory = openGroupDirectory(
      {
        kind: "okta",
        baseUrl: okta.url,
        tokenVariable: "BREAKGLASS_IDP_TOKEN",
        ca: join(folder, "ca.pem"),
        auth: {
          kind: "client-credentials",
          tokenUrl: okta.tokenUrl,
          clientId: "0oa1preflightdpop0000",
          scope: "okta.users.read okta.groups.manage",
          privateKeyFile: join(folder, "okta.pem"),
          dpop: true,
        },
      },
      {},
    )!;
    const { operators, ana } = seeded.Okta!;
    const before = okta.requests.length;
    await directory.addMember(operators, ana);
    await directory.removeMember(operators, ana);
    expect(okta.groups.get(operators)?.has(ana)).toBe(false);
    const api = okta.requests.slice(before).filter((request) => request.url?.startsWith("/api/v1/"));
    expect(api.length).toBeGreaterThanOrEqual(2);
    expect(api.every((request) => /^DPoP /.test(request.headers.authorization ?? "") && request.headers.dpop)).toBe(
      true,
    );
  });
});

describe("groups whose members the API cannot change, refused before anyone approves", () => {
  it("Okta: an APP_GROUP or BUILT_IN group, which Okta would refuse with 403 E0000006 at apply time", async () => {
    okta.groups.set("00gImportedFromAD001", new Set());
    okta.groupNames.set("00gImportedFromAD001", "aws-emergency-ad");
    okta.groupTypes.set("00gImportedFromAD001", "APP_GROUP");
    okta.groups.set("00gEveryone000000001", new Set());
    okta.groupNames.set("00gEveryone000000001", "Everyone");
    okta.groupTypes.set("00gEveryone000000001", "BUILT_IN");
    const { add } = executors("Okta");
    const found = await add.preflight!(
      { groups: ["aws-emergency-ad", "Everyone"], members: ["ana@example.com"] },
      runContext(),
    );
    expect(found.problems).toEqual([
      "group aws-emergency-ad (00gImportedFromAD001) cannot be used: it is an Okta APP_GROUP, imported from an app or " +
        "directory (AD, LDAP, Workday); its members are changed there, not in Okta",
      "group Everyone (00gEveryone000000001) cannot be used: it is an Okta BUILT_IN group (such as Everyone), " +
        "whose members Okta manages itself",
    ]);
  });

  it("Graph: dynamic, distribution, mail-enabled security, synced and role-assignable groups, each with its reason", async () => {
    const kinds = {
      "aws-dynamic": { groupTypes: ["DynamicMembership"] },
      "aws-distribution": { mailEnabled: true, securityEnabled: false },
      "aws-mail-security": { mailEnabled: true, securityEnabled: true },
      "aws-synced": { onPremisesSyncEnabled: true },
      "aws-role-assignable": { isAssignableToRole: true },
      "aws-m365": { groupTypes: ["Unified"], mailEnabled: true, securityEnabled: false },
    };
    const ids: Record<string, string> = {};
    for (const [name, properties] of Object.entries(kinds)) {
      const id = randomUUID();
      ids[name] = id;
      graph.groups.set(id, new Set());
      graph.groupNames.set(id, name);
      graph.groupProperties.set(id, properties);
    }
    const { add } = executors("Graph");
    const found = await add.preflight!({ groups: Object.keys(kinds), members: ["ana@example.com"] }, runContext());
    expect(found.problems.map((problem) => problem.replace(/ \([0-9a-f-]{36}\)/, ""))).toEqual([
      "group aws-dynamic cannot be used: it is a dynamic group: Entra ID sets its members from a rule, and no one can add or remove them",
      "group aws-distribution cannot be used: it is a distribution list, whose members Graph cannot change (Exchange Online manages them)",
      "group aws-mail-security cannot be used: it is a mail-enabled security group, whose members Graph cannot change " +
        "(Exchange Online manages them)",
      "group aws-synced cannot be used: it is synchronised from on-premises Active Directory: change its members there, not through Graph",
      "group aws-role-assignable cannot be used: it is role-assignable: changing its members also needs " +
        "RoleManagement.ReadWrite.Directory, which breakglass does not ask for",
    ]);
    expect(found.facts).toContain(`group aws-m365 = ${ids["aws-m365"]} (Graph)`);
  });
});
