// breakglass killed between receiving a message and deleting it: the message comes back, and the event is judged,
// recorded and alerted on exactly once, whether the process died before recording it or after.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/adapters/store/open-store.js";
import { SqsEventSource } from "../../src/adapters/watch/sqs-event-source.js";
import { EmergencyAccountWatcher } from "../../src/application/watch-emergency-account.js";
import { systemClock } from "../../src/domain/shared/clock.js";
import { EMERGENCY_ACCOUNT, EMERGENCY_USER, eventBridgeEnvelope, userCall } from "../support/cloudtrail-events.js";
import { awsClientConfig, startMoto, type MotoServer } from "../support/moto.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
let moto: MotoServer;
let sqs: SQSClient;

beforeAll(async () => {
  moto = await startMoto();
  sqs = new SQSClient(awsClientConfig(moto.endpoint));
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

function killedWatcher(storePath: string, queueUrl: string, point: string): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/support/watch-kill-process.ts", storePath, queueUrl, moto.endpoint, point],
      { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] },
    );
    child.once("error", reject);
    child.once("exit", (_code, signal) => resolve(signal));
  });
}

describe("a watcher killed between receive and delete", () => {
  for (const point of ["after-receive", "after-record"] as const) {
    it(`judges the event once when it died ${point.replace("-", " ")}: recorded once, one misuse alert`, async () => {
      // Visible again at once when not deleted, as after the visibility timeout.
      const queueUrl = (
        await sqs.send(
          new CreateQueueCommand({ QueueName: `breakglass-kill-${point}`, Attributes: { VisibilityTimeout: "0" } }),
        )
      ).QueueUrl as string;
      const event = userCall(new Date(Date.now() - 60_000), EMERGENCY_USER);
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: eventBridgeEnvelope(event) }));
      const storePath = join(mkdtempSync(join(tmpdir(), "breakglass-watch-kill-")), "breakglass.db");

      expect(await killedWatcher(storePath, queueUrl, point)).toBe("SIGKILL");

      const store = openStore({ path: storePath });
      try {
        expect(store.watchedEvents.findEvent(event.eventID) !== null).toBe(point === "after-record");
        const watcher = new EmergencyAccountWatcher({
          events: store.watchedEvents,
          windows: store.windows,
          principals: { accountId: EMERGENCY_ACCOUNT, users: [EMERGENCY_USER], roles: [], samlProviders: [] },
          clock: systemClock,
        });
        const source = new SqsEventSource({ client: sqs, queueUrl });
        const restarted = await watcher.drain(source);
        // The message came back: judged now if it was not recorded, recognised by its event id if it was.
        expect(restarted.judged.map((judgement) => judgement.eventId)).toEqual(
          point === "after-receive" ? [event.eventID] : [],
        );
        expect(restarted.duplicates).toBe(point === "after-record" ? 1 : 0);
        expect(store.watchedEvents.unpostedAlerts().map((alert) => [alert.eventId, alert.events])).toEqual([
          [event.eventID, 1],
        ]);
        // Deleted this time: the queue is empty.
        expect(await source.receive({ wait: false })).toEqual([]);
      } finally {
        store.close();
      }
    });
  }
});
