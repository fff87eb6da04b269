// serve's full check runs on a worker thread: the same findings and facts as the check in-process, errors that keep
// their code and one-line message, AWS failures still counted, and a check that runs out of memory failing alone.
import { createServer, type Server, type ServerResponse } from "node:http";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { ServiceName } from "../../src/adapters/aws/aws-clients.js";
import { loadConfig } from "../../src/config/load-config.js";
import type { BreakglassError } from "../../src/domain/errors.js";
import { CheckThread, checkTimeout } from "../../src/server/check-thread.js";
import { planChecks } from "../../src/application/check-plan.js";
import { evaluatePosture } from "../../src/application/evaluate-posture.js";
import { makeCertificate } from "../support/certificates.js";
import { corpusPath, readManifest } from "../support/corpus.js";
import { entityXml } from "../support/metadata-builder.js";

const NOW = new Date("2026-11-25T12:00:00Z");
let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "breakglass-check-thread-"));
});

async function configFor(metadata: string, extra = "") {
  const path = join(directory, `breakglass-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    path,
    `idp:\n  name: IdP\n  metadata: ${metadata}\n${extra}store:\n  path: ${join(directory, "breakglass.db")}\n`,
  );
  return (await loadConfig(path)).config;
}

describe("the check thread", () => {
  it("gives the same findings and facts as the check in this process, on every real IdP document of the corpus", async () => {
    // One thread for the whole corpus: each document in turn is copied to the one file the config names.
    const metadata = join(directory, "corpus-document.xml");
    const config = await configFor(metadata);
    const thread = new CheckThread({ config });
    try {
      for (const document of readManifest().filter((entry) => entry.wellFormed)) {
        copyFileSync(corpusPath(document.file), metadata);
        const inThread = await thread.evaluate(NOW, []);
        const inProcess = await evaluatePosture(config, planChecks(config, undefined), {
          now: NOW,
          latestAttestation: () => null,
        });
        expect(inThread, document.file).toEqual(inProcess);
        expect(inThread.idp?.entities.length, document.file).toBe(document.entityCount);
        const first = inThread.idp?.entities
          .flatMap((entity) => entity.certificates)
          .find((entry) => entry.facts !== null);
        if (first?.facts) expect(first.facts.notAfter, document.file).toBeInstanceOf(Date);
      }
    } finally {
      await thread.close();
    }
  });

  it("keeps the conditional-GET cache between checks, like the check it replaces", async () => {
    const certificate = makeCertificate();
    const body = entityXml({ keys: [{ base64: certificate.base64, use: "signing" }] });
    const answers: number[] = [];
    const idp = createServer((request, response) => {
      const status = request.headers["if-none-match"] === '"a"' ? 304 : 200;
      answers.push(status);
      response
        .writeHead(status, { etag: '"a"', "content-type": "application/samlmetadata+xml" })
        .end(status === 200 ? body : undefined);
    });
    await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
    const thread = new CheckThread({
      config: await configFor(`http://127.0.0.1:${(idp.address() as AddressInfo).port}/metadata`),
    });
    try {
      const first = await thread.evaluate(NOW, []);
      const second = await thread.evaluate(NOW, []);
      expect(answers).toEqual([200, 304]);
      expect(second.idp).toEqual(first.idp);
    } finally {
      await thread.close();
      await new Promise<void>((resolve) => idp.close(() => resolve()));
    }
  });

  it("rejects with the same code and one-line message as the check in this process", async () => {
    const config = await configFor(
      corpusPath("okta-aws-iam-identity-center.xml"),
      `  metadataSigner: ${join(directory, "no-such-signer.pem")}\n`,
    );
    const thread = new CheckThread({ config });
    try {
      const inProcess = await evaluatePosture(config, planChecks(config, undefined), {
        now: NOW,
        latestAttestation: () => null,
      }).then(
        () => expect.unreachable("the check read a signer that does not exist"),
        (error: unknown) => error as BreakglassError,
      );
      expect(inProcess.code).toBe("SIGNER_UNREADABLE");
      await expect(thread.evaluate(NOW, [])).rejects.toMatchObject({
        name: "BreakglassError",
        code: "SIGNER_UNREADABLE",
        message: inProcess.message,
      });
      expect(inProcess.message).toContain("no-such-signer.pem");
    } finally {
      await thread.close();
    }
  });

  it("still reports each AWS call that failed, for the metrics", async () => {
    // Every AWS API answers 403 AccessDenied, which the SDK does not retry.
    const aws: Server = createServer((request, response) => {
      request.resume();
      response
        .writeHead(403, { "content-type": "text/xml" })
        .end(
          '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>' +
            "<Code>AccessDenied</Code><Message>not for you</Message></Error><RequestId>1</RequestId></ErrorResponse>",
        );
    });
    await new Promise<void>((resolve) => aws.listen(0, "127.0.0.1", resolve));
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${(aws.address() as AddressInfo).port}`,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
    });
    const failed: ServiceName[] = [];
    const config = await configFor(
      corpusPath("okta-aws-iam-identity-center.xml"),
      `aws:\n  region: us-east-1\n  emergencyAccount:\n    accountId: "111122223333"\n    roleArn: ` +
        `arn:aws:iam::111122223333:role/breakglass-reader\n    samlProviders: ` +
        `[arn:aws:iam::111122223333:saml-provider/Okta]\n`,
    );
    const thread = new CheckThread({ config, onAwsCallFailed: (service) => failed.push(service) });
    try {
      const evaluation = await thread.evaluate(NOW, []);
      expect(evaluation.findings.map((finding) => finding.code)).toContain("AWS_READ_FAILED");
      expect(failed).toContain("sts");
    } finally {
      await thread.close();
      for (const name of ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"]) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
      await new Promise<void>((resolve) => aws.close(() => resolve()));
    }
  });

  it("fails only the check that runs out of memory, saying so, and runs the next one in a new thread", async () => {
    const metadata = join(directory, "federation.xml");
    const config = await configFor(metadata);
    // About 30 MB of metadata: far more than a 40 MB heap can hold, while a small document fits easily.
    const entity = entityXml({ keys: [{ base64: makeCertificate().base64, use: "signing" }] }).replace(
      /^<\?xml[^>]*>\s*/,
      "",
    );
    const entities = Array.from({ length: 20_000 }, (_, index) =>
      entity.replace(/entityID="[^"]*"/, `entityID="https://idp${index}.example.test"`),
    );
    writeFileSync(
      metadata,
      `<?xml version="1.0"?><md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${entities.join("")}</md:EntitiesDescriptor>`,
    );
    const thread = new CheckThread({ config, maxHeapMb: 40 });
    try {
      await expect(thread.evaluate(NOW, [])).rejects.toThrow(
        "check thread: the check ran out of memory (the check thread's heap is limited to 40 MB); the service goes on and the next check starts a new thread",
      );
      writeFileSync(metadata, entity);
      const next = await thread.evaluate(NOW, []);
      expect(next.idp?.entities).toHaveLength(1);
    } finally {
      await thread.close();
    }
  }, 60_000);

  it("stops a check that outlives its limit, saying so, and runs the next one in a new thread", async () => {
    // An IdP that takes the request and answers only after the check's limit (the fetch itself would wait 30 s).
    let stall = true;
    const held: ServerResponse[] = [];
    let stalled: () => void = () => undefined;
    const requestHeld = new Promise<void>((resolve) => (stalled = resolve));
    const body = entityXml({ keys: [{ base64: makeCertificate().base64, use: "signing" }] });
    const idp = createServer((_request, response) => {
      if (stall) {
        held.push(response);
        stalled();
      } else response.writeHead(200, { "content-type": "application/samlmetadata+xml" }).end(body);
    });
    await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
    const config = await configFor(`http://127.0.0.1:${(idp.address() as AddressInfo).port}/metadata`);
    // The limit's timer is faked: it fires when the test says the limit has passed (once the IdP holds the request), and
    // never on its own, so a thread that starts slowly on a busy machine cannot be taken for one that outlived it.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const thread = new CheckThread({ config, timeoutMs: 2_000 });
    try {
      const stopped = expect(thread.evaluate(NOW, [])).rejects.toThrow(
        "check thread: the check did not finish within 2s; its thread was stopped and the next check starts a new one",
      );
      await requestHeld;
      await vi.advanceTimersByTimeAsync(2_000);
      await stopped;
      stall = false;
      expect((await thread.evaluate(NOW, [])).idp?.entities).toHaveLength(1);
    } finally {
      vi.useRealTimers();
      await thread.close();
      for (const response of held) response.destroy();
      await new Promise<void>((resolve) => idp.close(() => resolve()));
    }
  });

  it("allows a check three intervals, and never less than 15 minutes", () => {
    expect(checkTimeout(5 * 60_000)).toBe(15 * 60_000);
    expect(checkTimeout(60_000)).toBe(15 * 60_000);
    expect(checkTimeout(30 * 60_000)).toBe(90 * 60_000);
  });

  it("refuses a check once closed, and fails the one in flight", async () => {
    const thread = new CheckThread({ config: await configFor(corpusPath("okta-aws-iam-identity-center.xml")) });
    const inFlight = expect(thread.evaluate(NOW, [])).rejects.toThrow(
      "check thread: the service stopped during the check",
    );
    await thread.close();
    await inFlight;
    await expect(thread.evaluate(NOW, [])).rejects.toThrow("check thread: the service is stopping; no new checks");
  });
});
