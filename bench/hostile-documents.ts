// The issue-11 denial-of-service documents, timed through the whole inspection: each must finish in under 2 s.
import { availableParallelism, loadavg } from "node:os";
import { checkMetadata } from "../src/domain/checks/metadata-checks.js";
import { describeError } from "../src/domain/errors.js";
import { inspectMetadataText } from "../src/domain/saml/inspect-metadata.js";
import { generateCertificates } from "./generate-aggregate.js";

const MB = 1024 * 1024;
const TARGET_SECONDS = 2;

/** An IdP entity with `filler` inside its Extensions and, when `signed`, a Signature whose digest and value are bogus. */
function hostileEntity(filler: string, signed: boolean, certificateBase64: string): string {
  const signature = signed
    ? `<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
      `<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_hostile"><ds:Transforms>` +
      `<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform ` +
      `Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>` +
      `<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>` +
      `<ds:SignatureValue>AAAA</ds:SignatureValue><ds:KeyInfo><ds:X509Data>` +
      `<ds:X509Certificate>${certificateBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`
    : "";
  return (
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ` +
    `xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://hostile.example/idp" ID="_hostile">` +
    `${signature}<md:Extensions>${filler}</md:Extensions><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
    `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>` +
    `<ds:X509Certificate>${certificateBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" ` +
    `Location="https://hostile.example/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>`
  );
}

export function benchHostileDocuments(): void {
  const [certificate] = [...generateCertificates(1)];
  const base64 = certificate!.toString("base64");
  const documents = [
    ["1 MB of <![CDATA[&]]> sections (pre-parse scan)", hostileEntity("<![CDATA[&]]>".repeat(MB / 13), false, base64)],
    ["2 MB: 500,000 empty elements + bogus Signature", hostileEntity("<a/>".repeat(500_000), true, base64)],
    ["8 MB: 2,000,000 empty elements + bogus Signature", hostileEntity("<a/>".repeat(2_000_000), true, base64)],
  ] as const;
  // Figures on a shared machine mean little without its load: print it beside them.
  console.log(`  load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores`);
  for (const [label, text] of documents) {
    globalThis.gc?.();
    const started = performance.now();
    let outcome: string;
    try {
      const findings = checkMetadata(inspectMetadataText(text, "hostile.xml"), { now: new Date(), warnDays: 30 });
      outcome = findings.map((finding) => finding.code).join(", ") || "no finding";
    } catch (error) {
      outcome = `refused: ${describeError(error).slice(0, 80)}`;
    }
    const seconds = (performance.now() - started) / 1000;
    const verdict = seconds < TARGET_SECONDS ? "met" : "MISSED";
    console.log(
      `  ${label.padEnd(50)} ${(text.length / MB).toFixed(1).padStart(4)} ` +
        `MB ${seconds.toFixed(2).padStart(6)} s (target < ${TARGET_SECONDS} s: ${verdict})  ${outcome}`,
    );
  }
}
