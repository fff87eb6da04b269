// A process for the watcher's kill test: receives from the queue with the real SQS source and SQLite store, and
// SIGKILLs itself after receiving (before recording) or after recording (before the message is deleted).
// Usage: node --import tsx test/support/watch-kill-process.ts <store> <queueUrl> <endpoint> <after-receive|after-record>
import { SQSClient } from "@aws-sdk/client-sqs";
import { openStore } from "../../src/adapters/store/open-store.js";
import { SqsEventSource } from "../../src/adapters/watch/sqs-event-source.js";
import { EmergencyAccountWatcher } from "../../src/application/watch-emergency-account.js";
import type { CloudTrailEventSource } from "../../src/domain/ports/cloudtrail-event-source.js";
import { systemClock } from "../../src/domain/shared/clock.js";
import { EMERGENCY_ACCOUNT, EMERGENCY_USER } from "./cloudtrail-events.js";

const [storePath, queueUrl, endpoint, point] = process.argv.slice(2) as [string, string, string, string];
const store = openStore({ path: storePath });
const sqs = new SqsEventSource({
  client: new SQSClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  }),
  queueUrl,
});
// SIGKILL, not an exception: nothing may run after it, exactly as when the machine dies.
const die = () => process.kill(process.pid, "SIGKILL");
const source: CloudTrailEventSource = {
  description: sqs.description,
  receive: async (options) => {
    const messages = await sqs.receive(options);
    if (point === "after-receive" && messages.length > 0) die();
    return messages;
  },
  acknowledge: (messages) => {
    if (point === "after-record") die();
    return sqs.acknowledge(messages);
  },
  reject: (messages) => sqs.reject(messages),
};
const watcher = new EmergencyAccountWatcher({
  events: store.watchedEvents,
  windows: store.windows,
  principals: { accountId: EMERGENCY_ACCOUNT, users: [EMERGENCY_USER], roles: [], samlProviders: [] },
  clock: systemClock,
});
await watcher.drain(source);
store.close();
