// The scheduler polls the IdP's metadata URL with conditional GET: an unchanged document costs a 304, not a download.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY, makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";
import { configText, startHarness, type ServeHarness } from "../support/serve-harness.js";

const RUNBOOKS = new URL("./runbooks/", import.meta.url).pathname;
const certificate = makeCertificate({
  notBefore: new Date(Date.now() - DAY),
  notAfter: new Date(Date.now() + 400 * DAY),
});
const document = entityXml({ keys: [{ base64: certificate.base64, use: "signing" }] });

let idp: Server;
const answers: number[] = [];
let harness: ServeHarness;

beforeAll(async () => {
  idp = createServer((request, response) => {
    if (request.headers["if-none-match"] === '"v1"') {
      answers.push(304);
      response.writeHead(304, { etag: '"v1"' }).end();
      return;
    }
    answers.push(200);
    response.writeHead(200, { "content-type": "application/samlmetadata+xml", etag: '"v1"' }).end(document);
  });
  await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/metadata.xml`;
  const yaml = configText("{dir}").replace(/ {2}metadata: .*\n/, `  metadata: ${url}\n`);
  harness = await startHarness({ configYaml: yaml, runbookDirectory: RUNBOOKS });
});

afterAll(async () => {
  await harness?.stop();
  await new Promise<void>((resolve) => idp.close(() => resolve()));
});

describe("metadata polling", () => {
  it("downloads the document once, then asks with If-None-Match and reuses the inspection on 304", async () => {
    const first = await harness.service.scheduler.runOnce();
    const second = await harness.service.scheduler.runOnce();
    const third = await harness.service.scheduler.runOnce();
    expect(answers).toEqual([200, 304, 304]);
    expect(first?.evaluation.idp?.entities).toHaveLength(1);
    expect(second?.evaluation.idp).toEqual(first?.evaluation.idp);
    expect(third?.evaluation.findings.map((finding) => finding.code)).toEqual(
      first?.evaluation.findings.map((finding) => finding.code),
    );
  });
});
