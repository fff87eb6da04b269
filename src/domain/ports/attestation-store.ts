// The port for Identity Center import attestations: what an admin declared they uploaded in the console, and when; and
// the changes to Identity Center's IdP configuration CloudTrail reported since, which may have made it untrue.
import type { Attestation, IdpConfigurationChange } from "../checks/posture-facts.js";

export interface AttestationStore {
  recordAttestation(attestation: Attestation): void;
  /**
   * The most recent attestation for the instance, or null when nobody has attested yet. Its lastIdpChange is the
   * recorded IdP configuration change of the instance with the latest changedAt (absent when there is none), whether
   * it came before or after the attestation: the identity-center check judges that.
   */
  latestAttestation(instanceArn: string): Attestation | null;
  /** The most recent attestation of every instance anyone attested, by instance ARN, each with its lastIdpChange. */
  latestAttestations(): Attestation[];
  /**
   * Records a change of the instance's IdP configuration; idempotent by eventId (CloudTrail delivers an event more than
   * once): true when it was new, false when that event was already recorded (the first record stays as it was).
   */
  recordIdpChange(change: IdpConfigurationChange): boolean;
}
