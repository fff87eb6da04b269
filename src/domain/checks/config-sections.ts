// The config sections a check can need, each with the reason a report gives when it is absent; src/config says how to find each.

/** Section path → what `check` and `config validate` say under "not checked" when the section is absent. */
export const CONFIG_SECTIONS = {
  aws: "no aws section",
  "aws.emergencyAccount.samlProviders": "no aws.emergencyAccount.samlProviders",
  "aws.emergencyAccount.emergencyRoles": "no aws.emergencyAccount.emergencyRoles",
  "aws.emergencyAccount.emergencyUsers": "no aws.emergencyAccount.emergencyUsers",
  "aws.identityCenter": "no aws.identityCenter section",
  "aws.organization": "no aws.organization section",
  "idp.directory.emergencyGroups": "no idp.directory.emergencyGroups",
  "watch.queueUrl": "no watch.queueUrl",
} as const satisfies Record<string, string>;

export type ConfigSection = keyof typeof CONFIG_SECTIONS;
