// Generates a federation-sized EntitiesDescriptor: N IdP entities, each with its own distinct signing certificate.
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import forge from "node-forge";

const { asn1 } = forge;
const MD = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS = "http://www.w3.org/2000/09/xmldsig#";

/** Issues `count` distinct RSA-2048 certificates (distinct serials and subjects), signed by one CA key. */
export function* generateCertificates(count: number): Generator<Buffer> {
  const subjectKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
  const caKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const spki = asn1.fromDer(subjectKey.export({ type: "spki", format: "der" }).toString("latin1"));
  const issuer = name("breakglass bench federation CA");
  for (let index = 0; index < count; index++) {
    yield issue(index, spki, issuer, caKey);
  }
}

function issue(index: number, spki: forge.asn1.Asn1, issuer: forge.asn1.Asn1, caKey: KeyObject): Buffer {
  const algorithm = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer("1.2.840.113549.1.1.11").getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ""),
  ]);
  const notBefore = new Date(Date.UTC(2025, 0, 1) + (index % 365) * 86_400_000);
  const notAfter = new Date(notBefore.getTime() + (730 + (index % 1000)) * 86_400_000);
  const tbs = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(2).getBytes()),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(1_000_000 + index).getBytes()),
    algorithm,
    issuer,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(notBefore)),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(notAfter)),
    ]),
    name(`idp${index}.bench.example`, `Bench University ${index}`),
    spki,
  ]);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), "latin1");
  const signature = sign("sha256", tbsDer, caKey);
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    algorithm,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\u0000${signature.toString("latin1")}`),
  ]);
  return Buffer.from(asn1.toDer(certificate).getBytes(), "latin1");
}

function name(commonName: string, organisation?: string): forge.asn1.Asn1 {
  const rdn = (oid: string, value: string) =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes()),
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, forge.util.encodeUtf8(value)),
      ]),
    ]);
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    rdn("2.5.4.6", "FO"),
    ...(organisation ? [rdn("2.5.4.10", organisation)] : []),
    rdn("2.5.4.3", commonName),
  ]);
}

export function entity(index: number, certificate: Buffer): string {
  const host = `idp${index}.bench.example`;
  const base64 = certificate.toString("base64").replace(/.{64}/g, "$&\n          ");
  return `  <md:EntityDescriptor entityID="https://${host}/idp/shibboleth">
    <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      <md:Extensions>
        <mdui:UIInfo xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui">
          <mdui:DisplayName xml:lang="en">Bench University ${index}</mdui:DisplayName>
          <mdui:Description xml:lang="en">Identity provider ${index} of the breakglass benchmark federation.</mdui:Description>
        </mdui:UIInfo>
      </md:Extensions>
      <md:KeyDescriptor use="signing">
        <ds:KeyInfo>
          <ds:X509Data>
            <ds:X509Certificate>
          ${base64}
            </ds:X509Certificate>
          </ds:X509Data>
        </ds:KeyInfo>
      </md:KeyDescriptor>
      <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>
      <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://${host}/idp/profile/SAML2/POST/SSO"/>
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://${host}/idp/profile/SAML2/Redirect/SSO"/>
    </md:IDPSSODescriptor>
    <md:Organization>
      <md:OrganizationName xml:lang="en">Bench University ${index}</md:OrganizationName>
      <md:OrganizationDisplayName xml:lang="en">Bench University ${index}</md:OrganizationDisplayName>
      <md:OrganizationURL xml:lang="en">https://www.bench${index}.example/</md:OrganizationURL>
    </md:Organization>
    <md:ContactPerson contactType="technical">
      <md:EmailAddress>mailto:identity@bench${index}.example</md:EmailAddress>
    </md:ContactPerson>
  </md:EntityDescriptor>
`;
}

/** Writes the aggregate once and reuses it: generation signs every certificate and takes a while. */
export function ensureAggregate(
  path: string,
  count: number,
): { path: string; bytes: number; generatedMs: number | null } {
  if (existsSync(path)) return { path, bytes: statSync(path).size, generatedMs: null };
  const started = performance.now();
  const parts = [
    `<?xml version="1.0" encoding="UTF-8"?>\n<md:EntitiesDescriptor xmlns:md="${MD}" xmlns:ds="${DS}" ` +
      `Name="urn:bench:federation" validUntil="2099-01-01T00:00:00Z">\n`,
  ];
  let index = 0;
  for (const certificate of generateCertificates(count)) parts.push(entity(index++, certificate));
  parts.push("</md:EntitiesDescriptor>\n");
  mkdirSync(new URL(".", `file://${path}`).pathname, { recursive: true });
  writeFileSync(path, parts.join(""));
  return { path, bytes: statSync(path).size, generatedMs: performance.now() - started };
}
