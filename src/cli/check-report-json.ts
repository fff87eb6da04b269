// The JSON of `breakglass check --json`: { ok, findings, facts, notChecked } — facts without bulky documents, dates as ISO-8601.
import type { Finding } from "../domain/checks/finding.js";
import type { PostureFacts, RoleFacts, SamlProviderFacts } from "../domain/checks/posture-facts.js";
import { documentSigningCertificates } from "../domain/checks/signing-certificates.js";
import type { DisabledCheck } from "../config/disabled-checks.js";
import { inspectMetadataText } from "../domain/saml/inspect-metadata.js";
import type { MetadataInspection } from "../domain/saml/metadata-model.js";
import { findingJson } from "./finding-json.js";

export interface CheckReport {
  readonly ok: boolean;
  readonly findings: readonly Finding[];
  readonly facts: PostureFacts | undefined;
  readonly idp: MetadataInspection | undefined;
  readonly notChecked: readonly DisabledCheck[];
  readonly now: Date;
}

export function checkReportJson(report: CheckReport): unknown {
  const { facts, idp } = report;
  return {
    ok: report.ok,
    findings: report.findings.map(findingJson),
    facts: {
      checkedAt: report.now.toISOString(),
      idp: idp
        ? {
            source: idp.input,
            entities: idp.entities.map((entity) => entity.entityID),
            signingCertificates: documentSigningCertificates(idp).map((certificate) => ({
              sha256: certificate.sha256,
              notBefore: certificate.notBefore.toISOString(),
              notAfter: certificate.notAfter.toISOString(),
            })),
          }
        : null,
      ...(facts?.samlProviders ? { samlProviders: facts.samlProviders.map(samlProviderJson) } : {}),
      ...(facts?.emergencyRoles ? { emergencyRoles: facts.emergencyRoles.map(roleJson) } : {}),
      ...(facts?.emergencyUsers ? { emergencyUsers: facts.emergencyUsers } : {}),
      ...(facts?.rootMfa ? { rootMfa: facts.rootMfa } : {}),
      ...(facts?.identityCenter
        ? {
            identityCenter: {
              instanceArn: facts.identityCenter.instanceArn,
              status: facts.identityCenter.status,
              instanceStatus: facts.identityCenter.instanceStatus,
              ...(facts.identityCenter.error ? { error: facts.identityCenter.error } : {}),
              // Whose credentials sso-admin was asked with, when the instance was not listed.
              ...(facts.identityCenter.readAs ? { readAs: facts.identityCenter.readAs } : {}),
            },
            attestation: facts.attestation
              ? { ...facts.attestation, attestedAt: facts.attestation.attestedAt.toISOString() }
              : null,
          }
        : {}),
      ...(facts?.workloadAccounts
        ? {
            workloadAccounts: facts.workloadAccounts.map((account) => ({
              accountId: account.accountId,
              name: account.name,
              ...(account.error ? { error: account.error } : {}),
              crossAccountRole: account.crossAccountRole ? roleJson(account.crossAccountRole) : null,
              serviceControlPolicies:
                account.serviceControlPolicies?.map((policy) => ({
                  id: policy.id,
                  name: policy.name,
                  targetId: policy.targetId,
                })) ?? null,
              ...(account.scpError ? { scpError: account.scpError } : {}),
            })),
          }
        : {}),
      ...(facts?.cloudTrail ? { cloudTrail: facts.cloudTrail } : {}),
      ...(facts?.eventBridge ? { eventBridge: facts.eventBridge } : {}),
      // Dates (a Region's addedAt) become ISO-8601 strings as the object is written.
      ...(facts?.identityCenterRegions ? { identityCenterRegions: facts.identityCenterRegions } : {}),
      ...(facts?.watchQueue ? { watchQueue: facts.watchQueue } : {}),
    },
    notChecked: report.notChecked,
  };
}

function samlProviderJson(provider: SamlProviderFacts): unknown {
  let signingCertificates: string[] | null = null;
  if (provider.metadataDocument) {
    try {
      signingCertificates = documentSigningCertificates(
        inspectMetadataText(provider.metadataDocument, provider.arn),
      ).map((certificate) => certificate.sha256);
    } catch {
      signingCertificates = null; // the drift finding already says the document cannot be read
    }
  }
  return {
    arn: provider.arn,
    status: provider.status,
    ...(provider.error ? { error: provider.error } : {}),
    validUntil: provider.validUntil?.toISOString() ?? null,
    signingCertificates,
  };
}

function roleJson(role: RoleFacts): unknown {
  return { arn: role.arn, status: role.status, ...(role.error ? { error: role.error } : {}) };
}
