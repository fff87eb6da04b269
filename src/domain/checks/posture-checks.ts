// Runs the judges of the enabled checks, as the check registry defines them, on the facts gathered for them.
import type { JudgeInput } from "./check-definition.js";
import { CHECK_NAMES, checkDefinition, checkReadsAws, type CheckName } from "./check-registry.js";
import { compareFindings, type Finding } from "./finding.js";
import type { PostureFacts } from "./posture-facts.js";

/**
 * The findings of every enabled check. The checks on the IdP's metadata alone come first, in the order they find
 * things in the document; then the AWS posture, most severe first. Checks that read AWS are judged only once AWS
 * facts were gathered.
 */
export function judgeChecks(enabled: ReadonlySet<CheckName>, input: JudgeInput): Finding[] {
  const idpOnly = CHECK_NAMES.filter((check) => enabled.has(check) && !checkReadsAws(check));
  const idpFindings = idpOnly.flatMap((check) => checkDefinition(check).judge(input));
  const { facts } = input;
  return facts ? [...idpFindings, ...checkPosture({ ...input, facts, enabled })] : idpFindings;
}

export interface PostureCheckInput extends JudgeInput {
  readonly facts: PostureFacts;
  /** The checks the config enables; facts of the others are not judged even when present. */
  readonly enabled: ReadonlySet<CheckName>;
}

/** The findings of the enabled checks that read AWS, most severe first. */
export function checkPosture(input: PostureCheckInput): Finding[] {
  const awsChecks = CHECK_NAMES.filter((check) => input.enabled.has(check) && checkReadsAws(check));
  return awsChecks.flatMap((check) => checkDefinition(check).judge(input)).sort(compareFindings);
}
