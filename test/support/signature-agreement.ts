// Compares the one-pass verifier's checks with xml-crypto's on the same document: valid or not, why, and what is signed.
import type { DocumentSignatureChecks, SignatureCheck } from "../../src/domain/saml/metadata-signature.js";

/** What the two verifiers disagree about, one line per difference; [] when they agree on every signature. */
export function signatureDisagreements(
  onePass: DocumentSignatureChecks,
  xmlCrypto: DocumentSignatureChecks,
  label: string,
): string[] {
  const differences: string[] = [];
  const compare = (where: string, left: SignatureCheck | undefined, right: SignatureCheck | undefined): void => {
    const facts = (check: SignatureCheck | undefined) => ({
      present: check?.verdict.present,
      valid: check?.verdict.valid,
      detail: check?.verdict.detail,
      signerSha256: check?.verdict.signerSha256,
      weakAlgorithms: check?.verdict.weakAlgorithms,
      signedXml: check?.signedXml,
    });
    const [one, other] = [facts(left), facts(right)];
    for (const key of Object.keys(one) as (keyof typeof one)[]) {
      if (JSON.stringify(one[key]) !== JSON.stringify(other[key]))
        differences.push(
          `${label} ${where}: ${key} is ${clip(one[key])} in one pass, ${clip(other[key])} in xml-crypto`,
        );
    }
  };
  compare("root", onePass.root, xmlCrypto.root);
  if (onePass.entities.length !== xmlCrypto.entities.length)
    differences.push(
      `${label}: ${onePass.entities.length} entities in one pass, ${xmlCrypto.entities.length} in xml-crypto`,
    );
  onePass.entities.forEach((entity, index) => compare(`entity ${index}`, entity, xmlCrypto.entities[index]));
  return differences;
}

function clip(value: unknown): string {
  const text = JSON.stringify(value) ?? "undefined";
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
