// An IdP on loopback that signs real SAML responses for AWS direct federation (samlify), with keys made at run time:
// it publishes its metadata over HTTP, rotates its signing key on request, and issues a response only to members of
// the groups its emergency app is assigned to, as an IdP's app assignment does.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as samlify from "samlify";
import { BreakglassError } from "../../domain/errors.js";
import { DAY, freshKeyPair, makeCertificate, type TestCertificate } from "./certificates.js";
import { entityXml } from "./metadata-builder.js";

/** Where AWS takes SAML responses for IAM federation, and the Audience it requires. */
export const AWS_SIGN_IN = "https://signin.aws.amazon.com/saml";
const ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role";
const SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
const POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/** What the emergency app asserts: the role to take, through which IAM SAML provider. */
export interface EmergencyApp {
  readonly roleArn: string;
  readonly providerArn: string;
  /** The RoleSessionName asserted; the login by default (a game day's test app sets breakglass-drill-…). */
  readonly sessionName?: string;
}

export interface SamlIdp {
  readonly entityId: string;
  /** The metadata URL, http://127.0.0.1:PORT/metadata. */
  readonly metadataUrl: string;
  /** The certificate responses are signed with now. */
  readonly signing: TestCertificate;
  /** The metadata as published now (what GET /metadata answers). */
  metadata(): string;
  /** Publishes a new signing certificate beside the current one (rollover); responses stay signed with the current key. */
  announceNextKey(): TestCertificate;
  /** Signs with the announced key from now on, and publishes only it. */
  switchToNextKey(): void;
  /**
   * A base64 SAML Response for `login` into the emergency app, as the IdP posts it to AWS; undefined when the app is not
   * assigned to `login` (the `mayUse` of startSamlIdp), as an IdP refuses a user the app is not assigned to.
   */
  respond(login: string, app: EmergencyApp): Promise<string | undefined>;
  /** The admin console's "test this app": a response for `login` whoever the app is assigned to. */
  testResponse(login: string, app: EmergencyApp): Promise<string>;
  close(): Promise<void>;
}

/** The IdP's first certificate has served for months; its successor starts now and lasts longer, as in a real rollover. */
const signingCertificate = (commonName: string, now: Date, servedDays: number): TestCertificate =>
  makeCertificate(
    {
      commonName,
      notBefore: new Date(now.getTime() - servedDays * DAY),
      notAfter: new Date(now.getTime() + (730 - servedDays) * DAY),
    },
    freshKeyPair(),
  );

/** Starts the IdP with a first signing key; `now` dates its certificates; `mayUse` says who the app is assigned to. */
export async function startSamlIdp(now: Date, mayUse: (login: string) => boolean): Promise<SamlIdp> {
  const entityId = `http://idp.drill.example/${randomUUID().slice(0, 8)}`;
  let signing = signingCertificate("drill IdP signing 1", now, 300);
  let next: TestCertificate | undefined;
  const sp = samlify.ServiceProvider({
    entityID: AWS_SIGN_IN,
    wantAssertionsSigned: true,
    assertionConsumerService: [{ Binding: POST_BINDING, Location: AWS_SIGN_IN }],
  });
  const published = () =>
    entityXml({
      entityID: entityId,
      keys: [signing, ...(next ? [next] : [])].map((certificate) => ({ base64: certificate.base64, use: "signing" })),
      ssoLocations: [state.metadataUrl.replace(/\/metadata$/, "/sso")],
    });

  const server = createServer((request, response) => {
    request.resume();
    if (request.method === "GET" && request.url === "/metadata") {
      response.writeHead(200, { "content-type": "application/samlmetadata+xml" }).end(published());
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const state: SamlIdp = {
    entityId,
    metadataUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata`,
    get signing() {
      return signing;
    },
    metadata: published,
    announceNextKey() {
      next = signingCertificate("drill IdP signing 2", now, 1);
      return next;
    },
    switchToNextKey() {
      if (next === undefined) throw new BreakglassError("INTERNAL", "IdP", "no next signing key was announced");
      signing = next;
      next = undefined;
    },
    respond: (login, app) => (mayUse(login) ? signedResponse(login, app) : Promise.resolve(undefined)),
    testResponse: (login, app) => signedResponse(login, app),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  async function signedResponse(login: string, app: EmergencyApp): Promise<string> {
    const idp = samlify.IdentityProvider({
      entityID: entityId,
      privateKey: signing.privateKeyPem,
      signingCert: signing.pem,
      singleSignOnService: [{ Binding: POST_BINDING, Location: state.metadataUrl.replace(/\/metadata$/, "/sso") }],
      // Without one samlify prints a warning on every response; the drill's IdP never logs anyone out.
      singleLogoutService: [{ Binding: POST_BINDING, Location: state.metadataUrl.replace(/\/metadata$/, "/slo") }],
      nameIDFormat: ["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"],
    });
    const attributes =
      `<saml:AttributeStatement>` +
      attribute(ROLE_ATTRIBUTE, `${app.roleArn},${app.providerArn}`) +
      attribute(SESSION_NAME_ATTRIBUTE, app.sessionName ?? login) +
      `</saml:AttributeStatement>`;
    const { context } = await idp.createLoginResponse(
      sp,
      { extract: {} },
      "post",
      { email: login },
      (template: string) => {
        // IdP-initiated: in response to no request, so the response carries no InResponseTo at all.
        template = template.replaceAll(' InResponseTo="{InResponseTo}"', "");
        const issued = new Date();
        const until = new Date(issued.getTime() + 5 * 60_000).toISOString();
        const responseId = `_${randomUUID()}`;
        const values: Record<string, string> = {
          ID: responseId,
          AssertionID: `_${randomUUID()}`,
          Destination: AWS_SIGN_IN,
          Audience: AWS_SIGN_IN,
          SubjectRecipient: AWS_SIGN_IN,
          Issuer: entityId,
          IssueInstant: issued.toISOString(),
          StatusCode: "urn:oasis:names:tc:SAML:2.0:status:Success",
          ConditionsNotBefore: issued.toISOString(),
          ConditionsNotOnOrAfter: until,
          SubjectConfirmationDataNotOnOrAfter: until,
          NameIDFormat: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
          NameID: login,
          InResponseTo: "",
          AuthnStatement:
            `<saml:AuthnStatement AuthnInstant="${issued.toISOString()}" SessionIndex="_${randomUUID()}"><saml:AuthnContext>` +
            `<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>` +
            `</saml:AuthnContext></saml:AuthnStatement>`,
          AttributeStatement: attributes,
        };
        return { id: responseId, context: template.replace(/\{(\w+)\}/g, (tag, name: string) => values[name] ?? tag) };
      },
    );
    return context;
  }
  return state;
}

function attribute(name: string, value: string): string {
  return (
    `<saml:Attribute Name="${name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">` +
    `<saml:AttributeValue xsi:type="xs:string">${value}</saml:AttributeValue></saml:Attribute>`
  );
}
