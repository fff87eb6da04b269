// The commented breakglass.yaml that `breakglass config init` writes: a valid starting point whose example values are marked.

export const EXAMPLE_CONFIG = `# breakglass.yaml: what breakglass checks, and where.
#
# Every value marked CHANGE ME is an example: replace it with your own, then run
#   breakglass config validate
# which lists any problem with its line (an example value left in place is one), and says which checks
# will run and which cannot. Check the other values too: the Regions, the role names, the schedule.
#
# No secrets belong in this file. AWS credentials come from the AWS SDK's usual chain
# (AWS_PROFILE, an \`aws sso login\` session, environment variables, an instance role);
# Slack tokens come from the environment. Relative paths are relative to this file's folder.

# The identity provider that signs people in to AWS, whose SAML metadata breakglass watches.
idp:
  name: Okta                        # the IdP's name, as reports should show it
  # Its SAML metadata: an https URL, or a file path. Plain http works but is reported as insecure.
  metadata: https://example.okta.com/app/exk0example0000000000/sso/saml/metadata   # CHANGE ME
  # If your IdP signs its metadata, pin the signer's certificate (a PEM file) so that a swapped
  # document is caught, not just a changed one:
  # metadataSigner: ./idp-metadata-signer.pem
  warnDays: 30                      # warn this many days before a signing certificate expires
  # FM3's emergency groups: the IdP's SCIM, Okta or Graph API; its token is in the variable named here, not this file.
  # directory:
  #   kind: okta                      # scim, okta or graph (Okta is a SCIM client, not a SCIM server)
  #   baseUrl: https://example.okta.com   # CHANGE ME
  #   tokenVariable: BREAKGLASS_IDP_TOKEN   # or auth: OAuth client credentials, see the README (FM3)
  #   emergencyGroups: [aws-emergency-operators]   # checked at rest: empty, and changeable (CHANGE ME)

aws:
  region: eu-west-1                 # the Region for API calls (else AWS_REGION or the profile's)

  # The account people reach during an identity outage, through its own IAM SAML provider.
  emergencyAccount:
    accountId: "111111111111"       # CHANGE ME; keep the quotes, or YAML drops a leading zero
    # The role breakglass assumes to read this account. Leave it out to read with your own credentials.
    roleArn: arn:aws:iam::111111111111:role/breakglass-reader          # CHANGE ME
    # The role breakglass assumes to apply runbook actions here (iam/action-role-policy.json). Leave it out to apply
    # them with your own credentials, which must then be this account's.
    actionRoleArn: arn:aws:iam::111111111111:role/breakglass-action    # CHANGE ME
    # The IAM SAML providers emergency sign-in goes through (IAM > Identity providers).
    samlProviders:
      - arn:aws:iam::111111111111:saml-provider/EmergencyIdP            # CHANGE ME
    # The roles responders assume through those providers.
    emergencyRoles:
      - arn:aws:iam::111111111111:role/EmergencyAdmin                   # CHANGE ME
    # FM1's emergency IAM users (names), each with a console password and an MFA device kept in the safe, no access
    # keys, and trusted by an emergency role with MFA required. Leave it out if you have none.
    emergencyUsers:
      - breakglass-emergency-1                                          # CHANGE ME

  # IAM Identity Center, the everyday way in. Delete this section if you do not use it.
  identityCenter:
    instanceArn: arn:aws:sso:::instance/ssoins-1234567890abcdef         # CHANGE ME: IAM Identity Center > Settings
    region: eu-west-1               # Identity Center's home Region
    # sso-admin answers only in the account that administers Identity Center (the management account, or the
    # delegated administrator), so breakglass reads it there through a read role, whatever credentials it runs with.
    # Without roleArn your own credentials must be in that account.
    accountId: "999999999999"       # CHANGE ME; keep the quotes
    roleArn: arn:aws:iam::999999999999:role/breakglass-identity-center-reader   # CHANGE ME

  # AWS Organizations: check the emergency path into every workload account.
  # Delete this section if you have a single account.
  organization:
    # The role to assume in the management (or delegated administrator) account for Organizations reads.
    # Leave it out if your credentials already are there.
    managementRoleArn: arn:aws:iam::999999999999:role/breakglass-org-reader   # CHANGE ME
    crossAccountRoleName: EmergencyAccess   # the emergency role every workload account must have
    readRoleName: breakglass-read           # the role breakglass assumes in each account to read it
    # "all": every ACTIVE account of the organization except the emergency and management accounts;
    # or a list of account IDs in quotes, e.g. ["222222222222", "333333333333"].
    accounts: all

# Which checks run: all of them unless you list fewer. A check whose section above is missing
# cannot run, and \`breakglass config validate\` says so.
checks:
  enabled: [metadata, saml-providers, emergency-roles, emergency-users, identity-center, identity-center-regions,
            cross-account-roles, scp-protection, cloudtrail, eventbridge, emergency-groups, watch]
  concurrency: 8                    # accounts read in parallel during the organization sweep (1 to 64)

# Where breakglass keeps its history.
store:
  path: ./breakglass.db
  # kind: dynamodb                  # one table shared by every host (README, Store); then also:
  # table: breakglass-store         # made by \`breakglass store init\`
  # region: eu-west-1
  # auditMirror: /var/log/breakglass/audit.jsonl   # optional: a copy of every audit record, shipped off the box

# \`breakglass serve\`: the long-running service (scheduler, Slack app, /healthz, /readyz, /metrics).
serve:
  checkInterval: 5m                 # how often the full check runs (at least 1m)
  expiryLadder: [60, 30, 14, 7, 3, 1]   # days before a certificate expires on which a warning is posted, once each
  leadership:
    ttlSeconds: 30                  # replicas on one store elect a leader; a dead one is replaced within this long
  # drill:                          # the live drill on a schedule (the leader runs it; README, Game days)
  #   every: 30d                    # at least 1h
  #   response: ./drill/response.b64   # a SAML response from the IdP's test app, preflighted at each drill
  #   assume: false                 # true: also one 15-minute AssumeRoleWithSAML inside a drill window
  #   reportDirectory: ./drill-evidence   # each drill's evidence report (Markdown and JSON); its path is posted to alerts

# Slack. Tokens come only from the environment: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (plus
# SLACK_APP_TOKEN with socketMode). Without them, serve still checks and logs what it would post.
# slack:
#   # apiUrl: https://slack-gov.com/api/   # GovSlack, a proxy; SLACK_API_URL overrides it
#   socketMode: false                      # true: no inbound HTTP, Slack is reached over a WebSocket
#   channels:                              # channel IDs (the channel's details show them)
#     alerts: C0123456789                  # CHANGE ME: findings, resolutions and certificate expiry warnings
#     incidents: C0123456789               # CHANGE ME: incident declarations and runbook announcements
#     security: C0123456789                # CHANGE ME: emergency access granted, revoked, declared
#   access:                                # the Slack-only form of access (below): Slack user IDs (U…) or user-group IDs (S…); anyone may read
#     run: [S0123456789]                   # check, start and step runbooks, declare and close incidents
#     approve: [S0123456789]               # approve runbook steps (never a run they started)
#     grant: [S0123456789]                 # grant and revoke emergency access
#   grant:                                 # /breakglass grant @user adds them to these IdP groups
#     groups: [aws-emergency-operators]    # needs idp.directory
#     defaultTtl: 4h
#     maxTtl: 12h

# Who is who, so that no one person can be both the initiator and the second person of a run, from any mix of the CLI
# and Slack. The CLI knows you by your AWS credentials (sts:GetCallerIdentity, which needs no permission), Slack by the
# signed request; --as is only a label. Without people, the CLI approves nothing.
# people:
#   - name: alice
#     slack: [U0123456789]
#     aws:
#       - userArn: arn:aws:iam::111111111111:user/em-alice
#       - roleArn: arn:aws:iam::111111111111:role/Responder   # an assumed role, with her own session name
#         sessionName: alice
# access:                                  # the same rules on every front end: people's names, Slack user or group IDs
#   run: [alice]
#   approve: [alice, S0123456789]
#   grant: [alice]
# identity:
#   mode: verified                         # lab: trust the OS user on the CLI (unverified, and every approval says so)

# \`breakglass watch\` (and serve): the emergency account's CloudTrail activity, judged against declared incidents; use
# outside any incident is misuse, posted to slack.channels.security. queueUrl is the SQS queue EventBridge delivers the
# events to; \`check\` verifies it, its dead-letter queue and the rules feeding it (in its Region and in us-east-1).
# Without queueUrl, CloudTrail LookupEvents is polled instead (events arrive there about 15 minutes late). Delete the
# section to run without.
watch:
  queueUrl: https://sqs.eu-west-1.amazonaws.com/111111111111/breakglass-watch   # CHANGE ME
  # region: eu-west-1                # only when the URL does not say (a VPC endpoint's URL)
  # burstGap: 1h                     # misuse by one actor with no longer gap than this is one alert
  # lookupEvents:                    # only without queueUrl
  #   regions: [us-east-1, eu-west-1]  # console sign-ins arrive in us-east-1
  #   lookback: 1h                   # how far back the first poll reads
`;
