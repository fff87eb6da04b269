// The check thread's entry point: evaluates the posture for each request from serve, keeping the metadata inspection
// cache (conditional GET) from one check to the next.
import { parentPort, workerData } from "node:worker_threads";
import { MemoryInspectionCache } from "../adapters/metadata/metadata-source.js";
import { planChecks } from "../application/check-plan.js";
import { evaluatePosture } from "../application/evaluate-posture.js";
import { BreakglassError } from "../domain/errors.js";
import { threadError, type CheckRequest, type CheckThreadMessage, type CheckWorkerData } from "./check-thread.js";

const port = parentPort;
if (port === null) throw new BreakglassError("INTERNAL", "check-worker.js", "runs only as serve's check thread");
const { config } = workerData as CheckWorkerData;
const plan = planChecks(config, undefined);
const cache = new MemoryInspectionCache();
const send = (message: CheckThreadMessage) => port.postMessage(message);

port.on("message", (request: CheckRequest) => {
  const attestations = new Map(request.attestations.map((attestation) => [attestation.instanceArn, attestation]));
  const leases = new Set(request.leases);
  evaluatePosture(config, plan, {
    now: request.now,
    cache,
    latestAttestation: (instanceArn) => attestations.get(instanceArn) ?? null,
    onAwsCallFailed: (service) => send({ kind: "aws-call-failed", service }),
    // The thread shares the process's environment: the IdP group API's token is read from it as everywhere else.
    env: process.env,
    leased: (groupId, userId) => leases.has(`${groupId} ${userId}`),
  }).then(
    (evaluation) => send({ kind: "evaluated", id: request.id, evaluation }),
    (error: unknown) => send({ kind: "failed", id: request.id, error: threadError(error) }),
  );
});
