// The port for emergency windows: one per incident, opened and closed idempotently, the open ones listed for Slack.

export interface EmergencyWindow {
  readonly incident: string;
  /** ISO-8601 instants, as stored. */
  readonly openedAt: string;
  readonly openedBy: string;
  readonly reason: string | null;
  readonly runId: string | null;
  readonly closedAt: string | null;
  readonly closedBy: string | null;
}

export interface NewEmergencyWindow {
  readonly incident: string;
  readonly openedAt: Date;
  readonly openedBy: string;
  readonly reason: string | null;
  readonly runId: string | null;
}

/** One window per incident. */
export interface EmergencyWindowStore {
  findWindow(incident: string): EmergencyWindow | null;
  /** Every window not closed yet, the most recently opened first. */
  openWindows(): EmergencyWindow[];
  /** Every window, open or closed, the earliest opened first: the watcher judges a late event by the window it fell in. */
  allWindows(): EmergencyWindow[];
  /** Opens the window, or reopens a closed one; leaves an open one as it is. True when something changed. */
  openWindow(window: NewEmergencyWindow): boolean;
  /** Closes an open window; leaves a closed or never-opened one as it is. True when something changed. */
  closeWindow(incident: string, closedAt: Date, closedBy: string): boolean;
}
