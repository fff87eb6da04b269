// /breakglass status is the command people send most, often many at once during an incident; its answer is rebuilt only
// when something it shows can have changed: a newer check, a new audit record (every change to runs, leases and
// windows is audited, by this process or the CLI), and in any case every few seconds (days left, "checked 3 min ago",
// and a change whose store write lands just after its audit record). A burst that finds the answer stale builds it once:
// the others wait for that build instead of each reading the store and rendering again.
import type { CheckCycle } from "../application/check-cycle.js";
import { postureSnapshot } from "./posture-snapshot.js";
import { postureStatusMessage } from "./posture-view.js";
import type { SlackContext } from "./slack-context.js";
import type { SlackMessage } from "./slack-message.js";

const REBUILD_AT_LEAST_EVERY_MS = 5_000;

/** What the answer was built from: when any of it differs, the answer may be stale. */
interface Basis {
  readonly cycle: CheckCycle | undefined;
  readonly auditHead: number;
  readonly period: number;
}

export class StatusMessageCache {
  private cached: { readonly basis: Basis; readonly message: SlackMessage } | undefined;
  private building: { readonly basis: Basis; readonly message: Promise<SlackMessage> } | undefined;

  constructor(private readonly context: SlackContext) {}

  message(): Promise<SlackMessage> {
    const { scheduler, services, clock } = this.context;
    const basis: Basis = {
      cycle: scheduler.latest(),
      auditHead: services.store.audit.auditHead(),
      period: Math.floor(clock.now().getTime() / REBUILD_AT_LEAST_EVERY_MS),
    };
    if (this.cached !== undefined && sameBasis(this.cached.basis, basis)) return Promise.resolve(this.cached.message);
    if (this.building !== undefined && sameBasis(this.building.basis, basis)) return this.building.message;
    const building = { basis, message: postureSnapshot(this.context).then(postureStatusMessage) };
    this.building = building;
    return building.message.then(
      (message) => {
        if (this.building === building) this.building = undefined;
        this.cached = { basis, message };
        return message;
      },
      (error: unknown) => {
        if (this.building === building) this.building = undefined;
        throw error;
      },
    );
  }
}

function sameBasis(a: Basis, b: Basis): boolean {
  return a.cycle === b.cycle && a.auditHead === b.auditHead && a.period === b.period;
}
