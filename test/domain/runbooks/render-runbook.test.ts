// `runbook show` output: the Markdown a responder reads at 3 a.m. carries every step, condition, approval, artefact and undo.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_RUNBOOK_DIRECTORY } from "../../../src/cli/runbook-command.js";
import { loadRunbook } from "../../../src/adapters/runbook-files/runbook-files.js";
import { parseRunbook } from "../../../src/domain/runbooks/parse-runbook.js";
import { renderRunbook } from "../../../src/domain/runbooks/render-runbook.js";

async function shipped(id: string): Promise<string> {
  return renderRunbook((await loadRunbook(join(DEFAULT_RUNBOOK_DIRECTORY, `${id}.yaml`))).runbook);
}

describe("renderRunbook", () => {
  it("opens with the title, the id and the failure mode, then the summary", async () => {
    const markdown = await shipped("fm2-reimport-metadata");
    expect(markdown.split("\n").slice(0, 4)).toEqual([
      "# Re-import the IdP's SAML metadata into the emergency IAM SAML providers and IAM Identity Center",
      "",
      "`fm2-reimport-metadata` · FM2 — the IdP configuration on AWS was modified or has expired",
      "",
    ]);
    expect(markdown).toContain("AWS no longer trusts what the IdP signs with");
  });

  it("lists the inputs with their type, choices, whether they are required, and their default", async () => {
    const markdown = await shipped("fm2-reimport-metadata");
    expect(markdown).toContain("| input | type | required | default | description |");
    expect(markdown).toContain(
      "| `incident` | string | yes |  | The incident or change reference, e.g. INC-4711 or CHG-1203. |",
    );
    expect(markdown).toMatch(
      /^\| `workforceSignIn` \| string: `broken` or `working` \| no \| `broken` \| broken: nobody can sign in/m,
    );
  });

  it("numbers every step in order, in the overview and in the headings", async () => {
    const { runbook } = await loadRunbook(join(DEFAULT_RUNBOOK_DIRECTORY, "fm2-reimport-metadata.yaml"));
    const markdown = renderRunbook(runbook);
    const headings = markdown.split("\n").filter((line) => line.startsWith("### "));
    expect(headings).toEqual(runbook.steps.map((step, index) => `### ${index + 1}. ${step.title}`));
    expect(markdown).toContain(
      "## Steps at a glance\n\n1. Declare the emergency (action, conditional)\n2. Tell the security team (notification, conditional)\n3. Fetch and inspect",
    );
  });

  it("says what a check expects, what it keeps and how often it retries", async () => {
    const markdown = await shipped("fm2-reimport-metadata");
    expect(markdown).toContain("- **What happens:** breakglass runs the check `metadata` and shows the findings.");
    expect(markdown).toContain(
      "- **Succeeds when:** no finding is high or critical, apart from `CERT_EXPIRING` and `CERT_NOT_YET_VALID`.",
    );
    expect(markdown).toContain("- **Keeps:** the metadata document it inspected as the run's `metadata-file`");
    expect(markdown).toContain("- **Retries:** runs the checks up to 10 times, 30s apart, until it succeeds.");
  });

  it("shows who must approve and what they approve", async () => {
    const markdown = await shipped("fm2-reimport-metadata");
    expect(markdown).toContain(
      "### 5. A second person approves the re-import\n\n**approval** · step id `approve-reimport`",
    );
    expect(markdown).toContain(
      "- **Needs a second person:** an authorised approver other than the one who started this run approves or rejects it",
    );
    expect(markdown).toContain("- **What they approve:** Import the IdP metadata inspected in step fetch-metadata");
  });

  it("shows an action's plan, verification and compensation", async () => {
    const markdown = await shipped("fm2-reimport-metadata");
    expect(markdown).toContain("**action** `iam.update-saml-provider` · step id `update-emergency-providers`");
    expect(markdown).toContain(
      "- **What happens:** breakglass shows the plan, then re-imports the run's metadata-file into each emergency IAM SAML provider (iam:UpdateSAMLProvider).",
    );
    expect(markdown).toContain("- **Verified by:** breakglass reads each provider back (iam:GetSAMLProvider)");
    expect(markdown).toContain("- **With:** every provider in `aws.emergencyAccount.samlProviders`.");
    expect(markdown).toContain(
      "- **Undo (compensation):** `iam.update-saml-provider` puts back the metadata document each " +
        "provider held before this step; it runs only if an operator rolls the run back.",
    );
  });

  it("attaches the exact artefact to the manual console step, and gives the exact attest command", async () => {
    const markdown = await shipped("fm2-reimport-metadata");
    expect(markdown).toContain("**by hand** · step id `upload-to-identity-center`");
    expect(markdown).toContain(
      "- **Artefact:** `metadata-file`, the exact IdP metadata document this run inspected, byte for byte (from step 3). Use exactly this file.",
    );
    expect(markdown).toContain(
      "breakglass identity-center attest --metadata ${artefacts.metadata-file} --by ${run.initiator}",
    );
    expect(markdown).toContain(
      "- **You confirm:** “I uploaded the attached metadata file in the Identity Center console and saved it.”",
    );
  });

  it("shows conditions and where a failure leads", async () => {
    const markdown = await shipped("fm3-direct-federation");
    expect(markdown).toContain("- **If it fails:** the run goes to step 6 (`repair-emergency-provider`).");
    expect(markdown).toContain(
      "- **Only when:** step 5 (`verify-emergency-provider`) failed; otherwise it is skipped.",
    );
    expect(markdown).toContain("- **If it fails:** the failure is recorded and the run continues with step 4.");
    expect(markdown).toContain("- **If it fails:** the run stops here; fix the cause, then resume it from this step.");
    expect(await shipped("fm1-idp-unavailable")).toContain(
      "- **Only when:** input `signInAs` is `root`; otherwise it is skipped.",
    );
  });

  it("shows the lease, the notification text and the groups being emptied", async () => {
    const markdown = await shipped("fm3-direct-federation");
    expect(markdown).toContain(
      "- **With:** `groups`: `${inputs.groups}`; `members`: `${inputs.responders}`; `ttl`: `${inputs.ttl}`",
    );
    expect(markdown).toContain(
      "Posts to the **incident** channel:\n\n> ${inputs.incident}: emergency sign-in is open for ${inputs.responders} for ${inputs.ttl}.",
    );
    expect(markdown).toContain(
      "- **What happens:** breakglass shows the plan, then removes every member from the emergency IdP groups and ends their leases.",
    );
    expect(markdown).toContain(
      "- **With:** `groups`: `${inputs.groups}`; `members`: **everyone** (the groups must end up empty)",
    );
  });

  it("asks for what a manual step records, such as who checked out which credential", async () => {
    const markdown = await shipped("fm1-idp-unavailable");
    expect(markdown).toContain("- **You write down:** Which credentials were checked out, and by whom?");
  });

  it("writes $${ as the literal ${ a shell snippet needs", () => {
    const text = [
      "id: demo",
      "title: Demo",
      "failureMode: FM1",
      "summary: For tests.",
      "steps:",
      "  - id: look",
      "    title: Look",
      "    kind: manual",
      "    instructions: echo $${HOME}",
      "",
    ].join("\n");
    const markdown = renderRunbook(parseRunbook(text, "demo.yaml").runbook);
    expect(markdown).toContain("echo ${HOME}\n");
    expect(markdown).toContain("## Inputs\n\nNone.");
    expect(markdown).toContain("- **Done when:** you mark the step done.");
  });
});
