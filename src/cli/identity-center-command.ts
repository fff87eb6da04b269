// `breakglass identity-center attest`: records which IdP signing certificates an admin imported in the Identity Center console.
import { userInfo } from "node:os";
import { AuditLog } from "../domain/audit/audit-log.js";
import { documentSigningCertificates } from "../domain/checks/signing-certificates.js";
import { shortFingerprint } from "../domain/checks/metadata-checks.js";
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import { BreakglassError } from "../domain/errors.js";
import { inspectMetadataSource } from "../adapters/metadata/metadata-source.js";
import { jsonlAuditMirror } from "../adapters/store/jsonl-audit-mirror.js";
import { openStore } from "../adapters/store/open-store.js";
import { redactUrl } from "../domain/shared/redact-url.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { attestationJson } from "./attestation-json.js";

export interface AttestOptions {
  readonly config?: string;
  readonly metadata: string;
  readonly by: string;
  /** Print what was recorded as one JSON object (attestation-json.ts) instead of sentences. */
  readonly json?: boolean;
}

/**
 * AWS offers no API to read the certificate Identity Center trusts, so the admin who uploaded the
 * metadata in the console records it here, and `breakglass check` compares the IdP against it.
 */
export async function runIdentityCenterAttest(options: AttestOptions, io: CliIo): Promise<number> {
  const by = options.by.trim();
  if (by === "") throw new BreakglassError("USAGE", "--by", "expected the name of the admin who imported the metadata");
  const configPath = resolveConfigPath(options.config, io.env);
  const { config } = await loadConfig(configPath);
  const instanceArn = config.aws?.identityCenter?.instanceArn;
  if (!instanceArn) {
    throw new BreakglassError(
      "USAGE",
      configPath,
      "has no aws.identityCenter.instanceArn: nothing to attest an import for",
    );
  }
  const { inspection } = await inspectMetadataSource(options.metadata, { fetch: { allowInsecureHttp: false } });
  // Shown, audited and stored without a URL's user:password and query, which may be credentials.
  const source = redactUrl(options.metadata);
  if (inspection.signature.present && inspection.signature.valid === false) {
    throw new BreakglassError(
      "USAGE",
      source,
      `refusing to attest metadata whose signature is invalid (${inspection.signature.detail ?? "it does not verify"})`,
    );
  }
  const certificates = documentSigningCertificates(inspection);
  if (certificates.length === 0)
    throw new BreakglassError(
      "USAGE",
      source,
      "has no IdP signing certificate: this is not what Identity Center needs",
    );

  const attestedAt = io.clock.now();
  const fingerprints = certificates.map((certificate) => certificate.sha256);
  const store = openStore(config.store);
  try {
    // Audited first: if the record cannot be written, the attestation is not made.
    new AuditLog(store.audit, io.clock, jsonlAuditMirror(config.store.auditMirror)).record({
      actor: `${by} (os user ${osUser()})`,
      action: "identity-center.attest",
      runId: null,
      subject: instanceArn,
      detail: { fingerprints, source },
    });
    store.attestations.recordAttestation({ instanceArn, fingerprints, attestedAt, attestedBy: by, source });
  } finally {
    store.close();
  }
  if (options.json) {
    const recorded = { instanceArn, source, attestedBy: by, attestedAt, certificates };
    io.stdout(`${JSON.stringify(attestationJson(recorded), null, 2)}\n`);
    return EXIT.ok;
  }
  io.stdout(
    `Recorded: ${by} imported into IAM Identity Center ${instanceArn} the metadata ${source} ` +
      `at ${attestedAt.toISOString()}, with ${certificates.length} ` +
      `signing ${certificates.length === 1 ? "certificate" : "certificates"}:\n`,
  );
  for (const certificate of certificates) {
    io.stdout(
      `  ${shortFingerprint(certificate.sha256)}  ${certificate.subject}  ` +
        `valid ${certificate.notBefore.toISOString().slice(0, 10)} ` +
        `to ${certificate.notAfter.toISOString().slice(0, 10)}\n`,
    );
  }
  io.stdout("`breakglass check` now compares the IdP's certificates with this import.\n");
  return EXIT.ok;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
