// The drill's IdP signs real SAML responses: xml-crypto verifies the Assertion's signature with the certificate the IdP
// publishes (and not with the one it rotated away from), the response carries what AWS reads, and the emergency app
// answers only the people it is assigned to.
import { DOMParser } from "@xmldom/xmldom";
import { SignedXml } from "xml-crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_SIGN_IN, startSamlIdp, type SamlIdp } from "../../../src/drill/loopback/saml-idp.js";

const APP = {
  roleArn: "arn:aws:iam::111122223333:role/EmergencyAdmin",
  providerArn: "arn:aws:iam::111122223333:saml-provider/EmergencyIdP",
};
const assigned = new Set(["dana@example.com"]);
let idp: SamlIdp;

beforeAll(async () => {
  idp = await startSamlIdp(new Date(), (login) => assigned.has(login));
});
afterAll(() => idp?.close());

/** Whether the Assertion's enveloped signature verifies with `certificatePem`, as a service provider checks it. */
function assertionVerifies(xml: string, certificatePem: string): boolean {
  const document = new DOMParser().parseFromString(xml, "text/xml");
  const signature = document.getElementsByTagNameNS("http://www.w3.org/2000/09/xmldsig#", "Signature")[0];
  if (signature === undefined) return false;
  const verifier = new SignedXml({ publicCert: certificatePem });
  verifier.loadSignature(signature);
  try {
    return verifier.checkSignature(xml);
  } catch {
    return false;
  }
}

const decode = (response: string | undefined) => Buffer.from(response ?? "", "base64").toString("utf8");

describe("the drill's SAML IdP", () => {
  it("signs the assertion with the key whose certificate it publishes, stating what AWS reads", async () => {
    const xml = decode(await idp.respond("dana@example.com", APP));
    expect(assertionVerifies(xml, idp.signing.pem)).toBe(true);
    expect(xml).toContain(`<saml:Audience>${AWS_SIGN_IN}</saml:Audience>`);
    expect(xml).toContain(`Destination="${AWS_SIGN_IN}"`);
    expect(xml).toContain(`${APP.roleArn},${APP.providerArn}`);
    expect(xml).toContain(">dana@example.com</saml:AttributeValue>");
    expect(xml).not.toContain("InResponseTo");
    const published = await (await fetch(idp.metadataUrl)).text();
    expect(published).toContain(idp.signing.base64);
  });

  it("refuses a person the emergency app is not assigned to, unless an admin tests the app", async () => {
    expect(await idp.respond("mallory@example.com", APP)).toBeUndefined();
    expect(assertionVerifies(decode(await idp.testResponse("alice@example.com", APP)), idp.signing.pem)).toBe(true);
  });

  it("publishes the next certificate beside the current one, then signs with the new key only", async () => {
    const first = idp.signing;
    const next = idp.announceNextKey();
    const during = await (await fetch(idp.metadataUrl)).text();
    expect([during.includes(first.base64), during.includes(next.base64)]).toEqual([true, true]);
    idp.switchToNextKey();
    const after = await (await fetch(idp.metadataUrl)).text();
    expect([after.includes(first.base64), after.includes(next.base64)]).toEqual([false, true]);
    const xml = decode(await idp.respond("dana@example.com", APP));
    expect(assertionVerifies(xml, next.pem)).toBe(true);
    expect(assertionVerifies(xml, first.pem)).toBe(false);
  });
});
