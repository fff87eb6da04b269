// What one check is: the config sections it needs, the facts it reads, and its judge (facts in, findings out).
import type { MetadataInspection } from "../saml/metadata-model.js";
import type { ConfigSection } from "./config-sections.js";
import type { FactKind } from "./fact-kinds.js";
import type { Finding } from "./finding.js";
import type { EmergencyGroupFacts } from "./emergency-groups.js";
import type { PostureFacts } from "./posture-facts.js";

/** Everything a judge may read. A judge returns no findings when the facts it reads were not gathered. */
export interface JudgeInput {
  /** What the AWS readers gathered; undefined when no check that reads AWS ran. */
  readonly facts: PostureFacts | undefined;
  /** The IdP's current metadata; undefined when it could not be read (a finding says so elsewhere) or no check reads it. */
  readonly idp: MetadataInspection | undefined;
  readonly samlProviderArns: readonly string[];
  readonly emergencyRoleArns: readonly string[];
  /** aws.identityCenter.instanceArn, when Identity Center is configured (the watch must then see its IdP changes). */
  readonly identityCenterInstanceArn?: string | undefined;
  readonly now: Date;
  readonly warnDays: number;
  /** What the IdP's group API said of each emergency group; undefined when no check reads it. */
  readonly emergencyGroups?: readonly EmergencyGroupFacts[] | undefined;
}

export interface CheckDefinition {
  /** The config sections the check cannot run without, outermost first: the first absent one is the reason reported. */
  readonly needs: readonly ConfigSection[];
  /** The facts the check judges: each is read only when a runnable check reads it. */
  readonly reads: readonly FactKind[];
  readonly judge: (input: JudgeInput) => Finding[];
}
