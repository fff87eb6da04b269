// The JSON of `breakglass identity-center attest --json`: what was recorded as imported into Identity Center, by whom, when.
import type { CertificateFacts } from "../domain/saml/certificate.js";

export interface RecordedAttestation {
  readonly instanceArn: string;
  readonly source: string;
  readonly attestedBy: string;
  readonly attestedAt: Date;
  readonly certificates: readonly CertificateFacts[];
}

export function attestationJson(attestation: RecordedAttestation): unknown {
  return {
    instanceArn: attestation.instanceArn,
    source: attestation.source,
    attestedBy: attestation.attestedBy,
    attestedAt: attestation.attestedAt.toISOString(),
    signingCertificates: attestation.certificates.map((certificate) => ({
      sha256: certificate.sha256,
      subject: certificate.subject,
      notBefore: certificate.notBefore.toISOString(),
      notAfter: certificate.notAfter.toISOString(),
    })),
  };
}
