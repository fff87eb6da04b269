// A SAML IdP on loopback: samlify signs real responses for AWS with keys made at test time; specs vary what it asserts.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as samlify from "samlify";
import { makeCertificate, type TestCertificate } from "./certificates.js";

export const AWS_SIGN_IN = "https://signin.aws.amazon.com/saml";
const POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

export interface ResponseSpec {
  /** The IdP's clock when it issues the response. */
  readonly issuedAt: Date;
  /** Conditions and SubjectConfirmationData last this long (IdPs use about 5 minutes). */
  readonly validSeconds?: number;
  readonly audience?: string;
  readonly recipient?: string;
  readonly destination?: string;
  readonly nameId?: string;
  /** Values of https://aws.amazon.com/SAML/Attributes/Role; none: the attribute is left out. */
  readonly roles?: readonly string[];
  /** null: the attribute is left out. */
  readonly sessionName?: string | null;
  readonly sessionDuration?: string;
  /** Which element samlify signs: the Assertion (the default, as most IdPs do for AWS), the Response, or both. */
  readonly sign?: "assertion" | "response" | "both";
}

export interface SignedResponse {
  readonly xml: string;
  readonly base64: string;
}

export interface SamlIdp {
  readonly entityId: string;
  readonly certificate: TestCertificate;
  /** The IdP's metadata, as an IAM SAML provider is created from. */
  readonly metadata: string;
  respond(spec: ResponseSpec): Promise<SignedResponse>;
}

export function createSamlIdp(options: { entityId?: string; certificate?: TestCertificate } = {}): SamlIdp {
  const entityId = options.entityId ?? "https://idp.breakglass.test/saml";
  const certificate = options.certificate ?? makeCertificate({ commonName: "breakglass test IdP signing" });
  const idp = samlify.IdentityProvider({
    entityID: entityId,
    privateKey: certificate.privateKeyPem,
    signingCert: certificate.pem,
    singleSignOnService: [{ Binding: POST_BINDING, Location: `${entityId}/sso` }],
    singleLogoutService: [{ Binding: POST_BINDING, Location: `${entityId}/slo` }],
  });
  let counter = 0;
  return {
    entityId,
    certificate,
    metadata: idp.getMetadata(),
    async respond(spec) {
      const sign = spec.sign ?? "assertion";
      const sp = samlify.ServiceProvider({
        entityID: "urn:amazon:webservices",
        assertionConsumerService: [{ Binding: POST_BINDING, Location: AWS_SIGN_IN }],
        wantAssertionsSigned: sign !== "response",
        wantMessageSigned: sign !== "assertion",
      });
      counter++;
      const xml = responseXml(entityId, spec, `_response${counter}`, `_assertion${counter}`);
      const { context } = await idp.createLoginResponse(
        sp,
        { extract: {} },
        "post",
        {},
        {
          customTagReplacement: () => ({ id: `_response${counter}`, context: xml }),
        },
      );
      const base64 = String(context);
      return { base64, xml: Buffer.from(base64, "base64").toString("utf8") };
    },
  };
}

/** Serves the IdP's sign-in on loopback: GET /sso answers the auto-posting form a browser would receive. */
export async function serveSamlIdp(
  idp: SamlIdp,
  spec: () => ResponseSpec,
): Promise<{ url: string; server: Server; stop(): Promise<void> }> {
  const server = createServer((request, response) => {
    if (request.url?.split("?")[0] !== "/sso") {
      response.writeHead(404).end();
      return;
    }
    idp.respond(spec()).then(
      ({ base64 }) => {
        response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        response.end(
          `<html><body onload="document.forms[0].submit()"><form method="post" action="${AWS_SIGN_IN}">` +
            `<input type="hidden" name="SAMLResponse" value="${base64}"/></form></body></html>`,
        );
      },
      () => response.writeHead(500).end(),
    );
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sso`,
    server,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The SAMLResponse a browser would post from the IdP's form: URL-encoded, as a SAML tracer shows the request body. */
export function formPostBody(html: string): string {
  const value = /name="SAMLResponse" value="([^"]+)"/.exec(html)?.[1] ?? "";
  return `SAMLResponse=${encodeURIComponent(value)}&RelayState=`;
}

function responseXml(issuer: string, spec: ResponseSpec, responseId: string, assertionId: string): string {
  const issued = spec.issuedAt.toISOString();
  const until = new Date(spec.issuedAt.getTime() + (spec.validSeconds ?? 300) * 1000).toISOString();
  const recipient = spec.recipient ?? AWS_SIGN_IN;
  const attribute = (name: string, values: readonly string[]) =>
    `<saml:Attribute Name="${name}">${values
      .map((value) => `<saml:AttributeValue>${escapeXml(value)}</saml:AttributeValue>`)
      .join("")}</saml:Attribute>`;
  const attributes = [
    spec.roles === undefined || spec.roles.length === 0
      ? ""
      : attribute("https://aws.amazon.com/SAML/Attributes/Role", spec.roles),
    spec.sessionName === null
      ? ""
      : attribute("https://aws.amazon.com/SAML/Attributes/RoleSessionName", [spec.sessionName ?? "alice@example.test"]),
    spec.sessionDuration === undefined
      ? ""
      : attribute("https://aws.amazon.com/SAML/Attributes/SessionDuration", [spec.sessionDuration]),
  ].join("");
  return (
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ` +
    `ID="${responseId}" Version="2.0" IssueInstant="${issued}" Destination="${escapeXml(spec.destination ?? recipient)}">` +
    `<saml:Issuer>${escapeXml(issuer)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${assertionId}" Version="2.0" IssueInstant="${issued}">` +
    `<saml:Issuer>${escapeXml(issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">` +
    `${escapeXml(spec.nameId ?? "alice@example.test")}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
    `<saml:SubjectConfirmationData NotOnOrAfter="${until}" Recipient="${escapeXml(recipient)}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${issued}" NotOnOrAfter="${until}"><saml:AudienceRestriction>` +
    `<saml:Audience>${escapeXml(spec.audience ?? AWS_SIGN_IN)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${issued}" SessionIndex="${assertionId}"><saml:AuthnContext>` +
    `<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>` +
    `</saml:AuthnContext></saml:AuthnStatement>` +
    (attributes === "" ? "" : `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>`) +
    `</saml:Assertion></samlp:Response>`
  );
}

function escapeXml(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
