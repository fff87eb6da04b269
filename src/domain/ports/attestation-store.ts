// The port for Identity Center import attestations: what an admin declared they uploaded in the console, and when.
import type { Attestation } from "../checks/posture-facts.js";

export interface AttestationStore {
  recordAttestation(attestation: Attestation): void;
  /** The most recent attestation for the instance, or null when nobody has attested yet. */
  latestAttestation(instanceArn: string): Attestation | null;
  /** The most recent attestation of every instance anyone attested, by instance ARN. */
  latestAttestations(): Attestation[];
}
