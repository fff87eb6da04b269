// /breakglass status is the command people send most, often many at once during an incident; its answer is rebuilt only
// when something it shows can have changed: a newer check, a new audit record (every change to runs, leases and
// windows is audited, by this process or the CLI), and in any case every few seconds (days left, "checked 3 min ago",
// and a change whose store write lands just after its audit record).
import type { CheckCycle } from "../serve/check-scheduler.js";
import { postureSnapshot } from "./posture-snapshot.js";
import { postureStatusMessage } from "./posture-view.js";
import type { SlackContext } from "./slack-context.js";
import type { SlackMessage } from "./slack-message.js";

const REBUILD_AT_LEAST_EVERY_MS = 5_000;

interface Cached {
  readonly cycle: CheckCycle | undefined;
  readonly auditHead: number;
  readonly period: number;
  readonly message: SlackMessage;
}

export class StatusMessageCache {
  private cached: Cached | undefined;

  constructor(private readonly context: SlackContext) {}

  async message(): Promise<SlackMessage> {
    const { scheduler, state, clock } = this.context;
    const cycle = scheduler.latest();
    const auditHead = state.auditHead();
    const period = Math.floor(clock.now().getTime() / REBUILD_AT_LEAST_EVERY_MS);
    const cached = this.cached;
    if (cached !== undefined && cached.cycle === cycle && cached.auditHead === auditHead && cached.period === period) return cached.message;
    const message = postureStatusMessage(await postureSnapshot(this.context));
    this.cached = { cycle, auditHead, period, message };
    return message;
  }
}
