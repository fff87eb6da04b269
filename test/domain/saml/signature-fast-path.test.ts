// The one-pass verifier of the enveloped exclusive-C14N profile: it agrees with xml-crypto, and no changed byte verifies.
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isBreakglassError } from "../../../src/domain/errors.js";
import { inspectMetadataText } from "../../../src/domain/saml/inspect-metadata.js";
import { checkMetadataSignatures, type MetadataSigner } from "../../../src/domain/saml/metadata-signature.js";
import { checkProfileSignatures } from "../../../src/domain/saml/signature-fast-path.js";
import { assertSafeXml } from "../../../src/domain/saml/xml-safety.js";
import { decodeXmlBytes } from "../../../src/domain/saml/xml-text.js";
import { makeCertificate } from "../../support/certificates.js";
import { readCorpusFile, readManifest } from "../../support/corpus.js";
import { aggregateXml, entityXml } from "../../support/metadata-builder.js";
import { signatureDisagreements } from "../../support/signature-agreement.js";
import { ALGORITHM, signXml } from "../../support/xml-signing.js";

const MD = "urn:oasis:names:tc:SAML:2.0:metadata";
const idp = makeCertificate({ commonName: "idp signing" });
const pinned: MetadataSigner = { key: createPublicKey(idp.publicKeyPem), sha256: null };

/** Both verifiers on one document; the one-pass checks, or undefined when the document is outside its profile. */
function sideBySide(text: string, label: string, signer?: MetadataSigner) {
  assertSafeXml(text, label);
  const onePass = checkProfileSignatures(text, signer);
  if (onePass) expect(signatureDisagreements(onePass, checkMetadataSignatures(text, signer), label)).toEqual([]);
  return onePass;
}

describe("the corpus of real metadata, side by side with xml-crypto", () => {
  const documents = readManifest().filter((document) => document.wellFormed);
  it.each(documents.map((document) => [document.file, document] as const))("%s: same verdicts", (file) => {
    const text = decodeXmlBytes(readCorpusFile(file), file).replace(/^\uFEFF/, "");
    sideBySide(text, file);
  });

  it("takes every signed document of the corpus through the one pass (none falls back)", () => {
    const signed = documents.filter((document) => document.documentSigned);
    expect(signed.length).toBeGreaterThanOrEqual(5);
    for (const { file } of signed) {
      const text = decodeXmlBytes(readCorpusFile(file), file).replace(/^\uFEFF/, "");
      expect(checkProfileSignatures(text, undefined)?.root.verdict.present, file).toBe(true);
    }
  });
});

const rsa = { privateKeyPem: idp.privateKeyPem, certificateBase64: idp.base64 };
const idpEntity = (id = "_idp", entityID = "https://idp.example.test/metadata") =>
  entityXml({ id, entityID, keys: [{ base64: idp.base64, use: "signing" }] });
/**
 * Namespaced and xml: attributes, entities, CDATA, a comment, CRLF line ends, and an undeclared default namespace. Every
 * namespace it declares is used: exclusive C14N leaves an unused declaration out of what the signature covers.
 */
const awkwardEntity =
  `<md:EntityDescriptor xmlns:md="${MD}" xmlns:z="urn:a" xmlns:a="urn:z" ID="_awkward"\r\n` +
  `  entityID="https://idp.example.test/a&amp;b?x=1&#x9;y" a:late="1" z:early="2" xml:lang="en">\r\n` +
  `  <!-- a comment the signature does not cover -->\r\n` +
  `  <md:Extensions><x:Ext xmlns:x="urn:ext" xmlns="urn:default"><Used/><Inner xmlns="">t &lt; u &gt; v &#13; w</Inner>` +
  `<![CDATA[<raw> & "quoted"]]></x:Ext></md:Extensions>\r\n` +
  `  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" attr='say "hi"'>` +
  `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.test/sso"/>` +
  `</md:IDPSSODescriptor>\r\n</md:EntityDescriptor>`;
const defaultNamespaceEntity =
  `<EntityDescriptor xmlns="${MD}" entityID="https://idp.example.test/default" ID="_default"><IDPSSODescriptor ` +
  `protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><SingleSignOnService ` +
  `Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.test/sso"/></IDPSSODescriptor></EntityDescriptor>`;
const entitySignedAggregate = aggregateXml(
  ["_a", "_b"].map((id) =>
    signXml(idpEntity(id, `https://${id.slice(1)}.example/idp`), {
      ...rsa,
      signatureAlgorithm: ALGORITHM.rsaSha256,
      referenceId: id,
    }).replace(/ xmlns:(md|ds)="[^"]*"/g, ""),
  ),
);
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ecSigner: MetadataSigner = { key: ec.publicKey, sha256: null };

const variants: [string, string, MetadataSigner | undefined][] = [
  [
    "RSA-SHA256, URI=#ID",
    signXml(idpEntity(), { ...rsa, signatureAlgorithm: ALGORITHM.rsaSha256, referenceId: "_idp" }),
    undefined,
  ],
  [
    "RSA-SHA1 with a SHA-1 digest",
    signXml(idpEntity(), { ...rsa, signatureAlgorithm: ALGORITHM.rsaSha1, digestAlgorithm: ALGORITHM.sha1 }),
    pinned,
  ],
  [
    "RSA-SHA512 with a SHA-384 digest",
    signXml(idpEntity(), { ...rsa, signatureAlgorithm: ALGORITHM.rsaSha512, digestAlgorithm: ALGORITHM.sha384 }),
    pinned,
  ],
  [
    "RSA-SHA256 with a SHA-512 digest",
    signXml(idpEntity(), { ...rsa, signatureAlgorithm: ALGORITHM.rsaSha256, digestAlgorithm: ALGORITHM.sha512 }),
    undefined,
  ],
  [
    "ECDSA-SHA256 against a pinned key",
    signXml(idpEntity(), {
      privateKeyPem: ec.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      signatureAlgorithm: ALGORITHM.ecdsaSha256,
    }),
    ecSigner,
  ],
  [
    "an InclusiveNamespaces PrefixList",
    signXml(idpEntity(), { ...rsa, signatureAlgorithm: ALGORITHM.rsaSha256, inclusiveNamespaces: ["md", "ds"] }),
    undefined,
  ],
  [
    "awkward markup",
    signXml(awkwardEntity, { ...rsa, signatureAlgorithm: ALGORITHM.rsaSha256, referenceId: "_awkward" }),
    undefined,
  ],
  ["a default namespace", signXml(defaultNamespaceEntity, { ...rsa, signatureAlgorithm: ALGORITHM.rsaSha256 }), pinned],
  ["an aggregate whose entities are signed", entitySignedAggregate, undefined],
  [
    "a signed aggregate of entities signed themselves",
    signXml(entitySignedAggregate.replace("<md:EntitiesDescriptor", '<md:EntitiesDescriptor ID="_all"'), {
      ...rsa,
      signatureAlgorithm: ALGORITHM.rsaSha256,
      referenceId: "_all",
    }),
    pinned,
  ],
];

describe("documents signed with every variation of the profile, side by side with xml-crypto", () => {
  it.each(variants)("%s verifies in one pass, as in xml-crypto", (label, signed, signer) => {
    const checks = sideBySide(signed, label, signer);
    expect(checks?.root.verdict.valid ?? checks?.entities.every((entity) => entity.verdict.valid)).toBe(true);
  });

  it.each(variants)("%s, changed after signing, is invalid in one pass, as in xml-crypto", (label, signed, signer) => {
    const changed = signed.replace(/https:\/\/([a-z]+)\.example/, "https://$1x.example");
    const checks = sideBySide(changed, label, signer);
    const verdicts = [checks?.root, ...(checks?.entities ?? [])].filter((check) => check?.verdict.present);
    expect(verdicts.some((check) => check?.verdict.valid === false)).toBe(true);
  });

  it("leaves a profile it does not cover (inclusive C14N) to xml-crypto", () => {
    const inclusive = signXml(idpEntity(), {
      ...rsa,
      signatureAlgorithm: ALGORITHM.rsaSha256,
      canonicalization: ALGORITHM.inclusiveC14n,
    });
    expect(checkProfileSignatures(inclusive, undefined)).toBeUndefined();
    expect(inspectMetadataText(inclusive, "inclusive.xml").signature.valid).toBe(true);
  });
});

describe("one changed byte anywhere in a signed element", () => {
  // Pinned, so that KeyInfo (which no signature covers: it only names the key) is the one part left out below.
  const signed = signXml(awkwardEntity.replaceAll("\r\n", "\n").replace(/ *<!--[^>]*-->\n/, ""), {
    ...rsa,
    signatureAlgorithm: ALGORITHM.rsaSha256,
    referenceId: "_awkward",
  });
  const start = signed.indexOf("<md:EntityDescriptor");
  const keyInfo = [signed.indexOf("<ds:KeyInfo"), signed.indexOf("</ds:KeyInfo>") + "</ds:KeyInfo>".length];
  const positions = [...signed].flatMap((character, at) =>
    at >= start && (at < keyInfo[0]! || at >= keyInfo[1]!) && !/\s/.test(character) ? [at] : [],
  );

  it("is never reported valid: refused as malformed, invalid, or unverifiable", () => {
    expect(inspectMetadataText(signed, "signed.xml", { signer: pinned }).signature.valid).toBe(true);
    fc.assert(
      fc.property(
        fc.constantFrom(...positions),
        fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)),
        (at, replacement) => {
          fc.pre(replacement !== signed[at]);
          const changed = `${signed.slice(0, at)}${replacement}${signed.slice(at + 1)}`;
          try {
            expect(inspectMetadataText(changed, "changed.xml", { signer: pinned }).signature.valid).not.toBe(true);
          } catch (error) {
            if (!isBreakglassError(error)) throw error;
          }
        },
      ),
      { numRuns: Number(process.env["FC_RUNS"] ?? 500), seed: Number(process.env["FC_SEED"] ?? 15) },
    );
  });
});
