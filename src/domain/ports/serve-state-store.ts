// The port for what `breakglass serve` remembers across restarts: the alerts it posted and resolved, the expiry-ladder
// steps it claimed and delivered, the Slack message that shows each run or incident, and a few named facts.

export interface AlertRecord {
  /** Identifies one finding across checks: its code, account and resource. */
  readonly key: string;
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly postedAt: string | null;
  readonly resolvedAt: string | null;
  readonly resolutionPostedAt: string | null;
}

export interface SeenFinding {
  readonly key: string;
  readonly code: string;
  readonly severity: string;
  readonly message: string;
}

export interface SlackMessageRef {
  readonly channel: string;
  readonly ts: string;
}

export interface ServeStateStore {
  /**
   * Records a finding seen by a check. A finding seen for the first time, or again after it was resolved, starts a new
   * alert (not posted yet); one already open only has its last sighting and message brought up to date.
   */
  recordSeen(finding: SeenFinding, at: Date): void;
  /** Runs `work` (calls on this store only) as one transaction: all of a check's sightings or none. */
  inTransaction<T>(work: () => T): T;
  /** Alerts not resolved yet, posted or not, the first seen first. */
  openAlerts(): AlertRecord[];
  /** Resolved alerts that were announced but whose resolution has not been posted yet. */
  unannouncedResolutions(): AlertRecord[];
  markPosted(key: string, at: Date): void;
  markResolved(key: string, at: Date): void;
  markResolutionPosted(key: string, at: Date): void;
  /** The expiry-ladder steps posted for a certificate, by its SHA-256 fingerprint, or being posted now. */
  postedExpirySteps(fingerprint: string): Set<string>;
  /**
   * Claims a step for posting: true for exactly one caller, until it is delivered (deliveredExpiryStep) or given back
   * (forgetExpiryStep). A claim still undelivered after `staleAfterMs` belongs to a process that died while posting;
   * the next caller takes it over, so that step is posted late rather than never.
   */
  claimExpiryStep(fingerprint: string, step: string, at: Date, staleAfterMs: number): boolean;
  /** The claimed step reached Slack (or the log, without Slack). */
  deliveredExpiryStep(fingerprint: string, step: string, at: Date): void;
  /** Gives a claimed, undelivered step back (Slack refused it), so the next check posts it. */
  forgetExpiryStep(fingerprint: string, step: string): void;
  /** The message that shows a subject (`run:<id>`, `incident:<id>`), if one was posted. */
  message(subject: string): SlackMessageRef | null;
  rememberMessage(subject: string, message: SlackMessageRef, at: Date): void;
  /** The subject a message shows, found by the message (a button press names only the message). */
  subjectOf(message: SlackMessageRef): string | null;
  /** A named fact, such as when the last full check completed. */
  state(name: string): string | null;
  setState(name: string, value: string): void;
}
