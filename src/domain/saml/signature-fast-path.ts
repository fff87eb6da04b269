// Verifies metadata signatures of the profile IdPs and federations use, without a DOM: linear in the document's size.
//
// The profile: one ds:Signature directly in the root or an EntityDescriptor, one Reference to that element (URI "" on
// the root, or "#" and its unique ID), Transforms enveloped-signature then exc-c14n (an InclusiveNamespaces PrefixList
// allowed), exc-c14n for SignedInfo, a digest and signature algorithm of signature-algorithms.ts, a key of the right
// family. For a document of exactly that profile the checks here are the ones metadata-signature.ts makes through
// xml-crypto, in the same order (digest, then signature value), with the same verdicts; the signed element's facts
// are still re-read from the canonical bytes the signature covers. Anything else, wherever it is in the document,
// returns undefined so that the caller uses metadata-signature.ts for the whole document.
import { createHash, type KeyObject } from "node:crypto";
import { keyOfCertificateText } from "./embedded-certificate.js";
import {
  canonicalizeExclusive,
  writeExclusiveCanonicalization,
  declare,
  decodeReferences,
  readStartTag,
  type NamespaceScope,
  type TagAttribute,
} from "./exclusive-canonicalization.js";
import { NO_SIGNATURE, type SignatureVerdict } from "./metadata-model.js";
import { MetadataTextReader } from "./metadata-text-extract.js";
import type { DocumentSignatureChecks, MetadataSigner, SignatureCheck } from "./metadata-signature.js";
import {
  digestNameOf,
  familyOfKey,
  isWeakAlgorithm,
  keyFamilyOf,
  verifySignatureValue,
} from "./signature-algorithms.js";
import {
  readSignatureLayout,
  type DocumentStructure,
  type SignatureLayout,
  type SignedContainer,
} from "./signature-shape.js";
import { NS } from "./xml-document.js";

const EXCLUSIVE_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED_SIGNATURE = `${NS.xmldsig}enveloped-signature`;
const UNSIGNED: SignatureCheck = { verdict: NO_SIGNATURE, signedXml: null };

/**
 * The verdicts for every signature metadata-signature.ts would check, when every one of them is of the profile above;
 * undefined otherwise. `text` must have passed assertSafeXml; `layout` is its readSignatureLayout, read here when the
 * caller has none.
 */
export function checkProfileSignatures(
  text: string,
  signer: MetadataSigner | undefined,
  layout: SignatureLayout = readSignatureLayout(text),
): DocumentSignatureChecks | undefined {
  if (layout.structureFailure) throw layout.structureFailure.error;
  const structure = layout.structure;
  if (!structure) return undefined;
  const root = checkContainer(text, structure.root, structure, signer);
  if (!root) return undefined;
  const entities: SignatureCheck[] = [];
  for (const entity of structure.entities) {
    const check = entity === structure.root ? root : checkContainer(text, entity, structure, signer);
    if (!check) return undefined;
    entities.push(check);
  }
  return { root, entities };
}

/** A small element tree, for the ds:Signature alone. */
interface SignatureNode {
  readonly namespace: string;
  readonly localName: string;
  readonly attributes: readonly TagAttribute[];
  readonly children: SignatureNode[];
  text: string;
  readonly start: number;
  end: number;
  /** The namespaces it inherits from its parent. */
  readonly inherited: NamespaceScope;
}

function parseSignature(text: string, from: number, to: number, inherited: NamespaceScope): SignatureNode | undefined {
  const stack: { node: SignatureNode; scope: NamespaceScope }[] = [];
  let top: SignatureNode | undefined;
  let at = from;
  while (at < to) {
    const open = text.indexOf("<", at);
    if (open === -1 || open >= to) return undefined;
    const current = stack.at(-1);
    if (open > at && current) current.node.text += decodeReferences(text.slice(at, open));
    const next = text.charCodeAt(open + 1);
    if (next === 0x2f /* / */) {
      const close = text.indexOf(">", open);
      const finished = stack.pop();
      if (finished) finished.node.end = close + 1;
      at = close + 1;
    } else if (next === 0x21 /* ! */) {
      if (text.startsWith("<!--", open)) {
        at = text.indexOf("-->", open + 4) + 3;
      } else {
        const close = text.indexOf("]]>", open + 9);
        if (current) current.node.text += text.slice(open + 9, close);
        at = close + 3;
      }
    } else {
      const tag = readStartTag(text, open);
      const parentScope = current?.scope ?? inherited;
      const scope = tag ? declare(parentScope, tag.attributes) : undefined;
      if (!tag || !scope) return undefined;
      const colon = tag.name.indexOf(":");
      const namespace = scope[colon === -1 ? "" : tag.name.slice(0, colon)];
      if (namespace === undefined) return undefined;
      const node: SignatureNode = {
        namespace,
        localName: tag.name.slice(colon + 1),
        attributes: tag.attributes,
        children: [],
        text: "",
        start: open,
        end: tag.selfClosing ? tag.end : -1,
        inherited: parentScope,
      };
      if (current) current.node.children.push(node);
      else top = node;
      if (!tag.selfClosing) stack.push({ node, scope });
      at = tag.end;
    }
  }
  return top && top.end !== -1 ? top : undefined;
}

/** The one SignedInfo / Reference / Transforms… of the profile, or undefined for any other signature. */
interface ProfileSignature {
  readonly signedInfo: SignatureNode;
  readonly signedInfoPrefixes: readonly string[];
  readonly signatureMethod: string;
  readonly uri: string;
  readonly referencePrefixes: readonly string[];
  readonly digestMethod: string;
  readonly digestValue: string;
  readonly signatureValue: string;
  readonly certificate: string | undefined;
}

function readProfile(signature: SignatureNode): ProfileSignature | undefined {
  const ds = (node: SignatureNode, localName: string) => node.namespace === NS.xmldsig && node.localName === localName;
  const [signedInfo, signatureValue, keyInfo, ...rest] = signature.children;
  if (!signedInfo || !ds(signedInfo, "SignedInfo") || !signatureValue || !ds(signatureValue, "SignatureValue"))
    return undefined;
  if (signatureValue.children.length > 0) return undefined;
  if (rest.some((child) => !ds(child, "Object")) || (keyInfo && !ds(keyInfo, "KeyInfo") && !ds(keyInfo, "Object")))
    return undefined;
  if (countDescendants(signature, (node) => ds(node, "Reference") || ds(node, "SignedInfo")) !== 2) return undefined;
  const [canonicalization, signatureMethod, reference, ...more] = signedInfo.children;
  if (more.length > 0 || !canonicalization || !signatureMethod || !reference) return undefined;
  if (!ds(canonicalization, "CanonicalizationMethod") || !ds(signatureMethod, "SignatureMethod")) return undefined;
  if (!ds(reference, "Reference") || algorithmOf(canonicalization) !== EXCLUSIVE_C14N) return undefined;
  const signedInfoPrefixes = inclusivePrefixes(canonicalization);
  const [transforms, digestMethod, digestValue, ...extra] = reference.children;
  if (extra.length > 0 || !transforms || !digestMethod || !digestValue) return undefined;
  if (!ds(transforms, "Transforms") || !ds(digestMethod, "DigestMethod") || !ds(digestValue, "DigestValue"))
    return undefined;
  if (digestValue.children.length > 0 || digestMethod.children.length > 0 || signatureMethod.children.length > 0)
    return undefined;
  const [enveloped, exclusive, ...moreTransforms] = transforms.children;
  if (moreTransforms.length > 0 || !enveloped || !exclusive) return undefined;
  // Children of the enveloped-signature transform are ignored, as xml-crypto ignores them (it takes no parameters).
  if (!ds(enveloped, "Transform") || algorithmOf(enveloped) !== ENVELOPED_SIGNATURE) return undefined;
  if (!ds(exclusive, "Transform") || algorithmOf(exclusive) !== EXCLUSIVE_C14N) return undefined;
  const referencePrefixes = inclusivePrefixes(exclusive);
  const uri = attributeOf(reference, "URI");
  if (!signedInfoPrefixes || !referencePrefixes || uri === undefined) return undefined;
  const certificates: SignatureNode[] = [];
  if (keyInfo && ds(keyInfo, "KeyInfo"))
    collectDescendants(keyInfo, (node) => ds(node, "X509Certificate"), certificates);
  return {
    signedInfo,
    signedInfoPrefixes,
    signatureMethod: algorithmOf(signatureMethod),
    uri,
    referencePrefixes,
    digestMethod: algorithmOf(digestMethod),
    digestValue: digestValue.text,
    signatureValue: signatureValue.text,
    certificate: certificates[0]?.text,
  };
}

/** The PrefixList of an ec:InclusiveNamespaces child, [] without one; undefined for any other child or odd spacing. */
function inclusivePrefixes(method: SignatureNode): string[] | undefined {
  if (method.children.length === 0) return [];
  const [only, ...more] = method.children;
  if (!only || more.length > 0 || only.namespace !== EXCLUSIVE_C14N || only.localName !== "InclusiveNamespaces")
    return undefined;
  const list = attributeOf(only, "PrefixList") ?? "";
  const prefixes = list.split(" ").filter((prefix) => prefix !== "");
  return prefixes.join(" ") === list ? prefixes : undefined;
}

function algorithmOf(node: SignatureNode): string {
  return attributeOf(node, "Algorithm") ?? "";
}

function attributeOf(node: SignatureNode, name: string): string | undefined {
  return node.attributes.find((attribute) => attribute.name === name)?.value;
}

function countDescendants(node: SignatureNode, matches: (node: SignatureNode) => boolean): number {
  const found: SignatureNode[] = [];
  collectDescendants(node, matches, found);
  return found.length;
}

function collectDescendants(node: SignatureNode, matches: (node: SignatureNode) => boolean, into: SignatureNode[]) {
  for (const child of node.children) {
    if (matches(child)) into.push(child);
    collectDescendants(child, matches, into);
  }
}

/** The check of one container's signature, or undefined when it is not of the profile. */
function checkContainer(
  text: string,
  container: SignedContainer,
  structure: DocumentStructure,
  signer: MetadataSigner | undefined,
): SignatureCheck | undefined {
  if (container.signatures.length === 0) return UNSIGNED;
  const [range, ...others] = container.signatures;
  if (!range || others.length > 0) return undefined;
  const signature = parseSignature(text, range[0], range[1], container.scope);
  const profile = signature ? readProfile(signature) : undefined;
  if (!profile || !coversContainer(profile.uri, container, structure)) return undefined;
  const digestName = digestNameOf(profile.digestMethod);
  const family = keyFamilyOf(profile.signatureMethod);
  if (digestName === undefined || family === undefined) return undefined;
  const embedded = signer ? undefined : keyOfCertificateText(profile.certificate);
  const key: KeyObject | undefined = signer?.key ?? embedded?.key;
  if (!key || familyOfKey(key) !== family) return undefined;
  const signerSha256 = signer ? signer.sha256 : (embedded?.sha256 ?? null);

  // The signed element's canonical form is hashed and its facts read piece by piece, never held whole.
  const canonicalization = { omit: range, inclusivePrefixes: profile.referencePrefixes };
  const hash = createHash(digestName);
  const reader = new MetadataTextReader();
  const written = writeExclusiveCanonicalization(
    text,
    container.start,
    container.end,
    container.inherited,
    canonicalization,
    (piece) => {
      hash.update(piece, "utf8");
      reader.read(piece);
    },
  );
  const signedInfo = canonicalizeExclusive(
    text,
    profile.signedInfo.start,
    profile.signedInfo.end,
    profile.signedInfo.inherited,
    { inclusivePrefixes: profile.signedInfoPrefixes },
  );
  if (!written || signedInfo === undefined) return undefined;

  const weakAlgorithms = [...new Set([profile.signatureMethod, profile.digestMethod].filter(isWeakAlgorithm))];
  const verdict = (valid: boolean, detail: string): SignatureVerdict => ({
    present: true,
    valid,
    detail,
    key: signer ? "pinned" : "embedded",
    signerSha256,
    unverifiedReason: null,
    weakAlgorithms,
  });
  // The order xml-crypto checks in: the digest of the signed element, then the signature over SignedInfo.
  const digest = hash.digest();
  const expectedDigest = canonicalBase64(profile.digestValue);
  if (!expectedDigest || !digest.equals(expectedDigest))
    return {
      verdict: verdict(false, "the signed content was changed after signing (digest mismatch)"),
      signedXml: null,
    };
  const signatureValue = canonicalBase64(profile.signatureValue);
  if (!signatureValue || !verifySignatureValue(profile.signatureMethod, key, signedInfo, signatureValue))
    return { verdict: verdict(false, "the signature value does not match the signer's key"), signedXml: null };
  const how = signer
    ? "verified against the pinned signer"
    : "verified against the certificate in the signature (integrity only; pin the signer with --metadata-signer)";
  let signedXml: string | null | undefined;
  return {
    verdict: verdict(true, how),
    signedFacts: reader.finish(),
    get signedXml(): string | null {
      signedXml ??=
        canonicalizeExclusive(text, container.start, container.end, container.inherited, canonicalization) ?? null;
      return signedXml;
    },
  };
}

/** The anti-wrapping rule of metadata-signature.ts: the one Reference names the element the Signature is in. */
function coversContainer(uri: string, container: SignedContainer, structure: DocumentStructure): boolean {
  if (uri === "") return container.isRoot;
  if (!uri.startsWith("#") || uri.includes("'")) return false;
  const id = uri.slice(1);
  return id !== "" && container.id === id && structure.idCounts.get(id) === 1;
}

/**
 * The bytes of base64 text written the one way base64 writes them (whitespace aside); undefined otherwise, so that a
 * changed character never decodes to the same bytes.
 */
function canonicalBase64(text: string): Buffer | undefined {
  const base64 = text.replace(/[ \t\r\n]+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return undefined;
  const bytes = Buffer.from(base64, "base64");
  return bytes.length > 0 && bytes.toString("base64") === base64 ? bytes : undefined;
}
