// The Identity Center reader against a loopback server speaking sso-admin's documented ListInstances shape,
// because moto 5.2 lists every instance as ACTIVE and cannot show the states that matter in an outage.
// Shape: https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListInstances.html
// (awsJson1_1, X-Amz-Target SWBExternalService.ListInstances; Instances[].{InstanceArn, IdentityStoreId, Status, ...}, NextToken).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsClients, DEFAULT_AWS_SETTINGS } from "../../src/adapters/aws/aws-clients.js";
import { readIdentityCenter } from "../../src/adapters/aws/identity-center-reader.js";
import { checkIdentityCenter } from "../../src/domain/checks/identity-center.js";

const INSTANCE = "arn:aws:sso:::instance/ssoins-7223a2f5d3b4c6e8";
let server: Server;
let endpoint: string;
let status = "ACTIVE";
let answer: "instances" | "unavailable" | "never" = "instances";
const targets: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      targets.push(String(request.headers["x-amz-target"]));
      // Takes the request and never answers, as a black-holed endpoint or a stuck proxy does.
      if (answer === "never") return;
      if (answer === "unavailable") {
        response.writeHead(400, { "content-type": "application/x-amz-json-1.1" }).end(
          JSON.stringify({
            __type: "AccessDeniedException",
            message: "User is not authorized to perform sso:ListInstances",
          }),
        );
        return;
      }
      const { NextToken: token } = JSON.parse(body || "{}") as { NextToken?: string };
      // Two pages: the instance we look for is on the second, behind a NextToken.
      const page =
        token === "page-2"
          ? {
              Instances: [
                {
                  InstanceArn: INSTANCE,
                  IdentityStoreId: "d-9067c1a2b3",
                  OwnerAccountId: "111111111111",
                  Name: "corp",
                  Status: status,
                  CreatedDate: 1.7e9,
                },
              ],
            }
          : {
              Instances: [
                {
                  InstanceArn: "arn:aws:sso:::instance/ssoins-0000000000000000",
                  IdentityStoreId: "d-0000000000",
                  Status: "ACTIVE",
                },
              ],
              NextToken: "page-2",
            };
      response.writeHead(200, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify(page));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The service-specific variable of the SDK's standard environment: only sso-admin goes to this server.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SSO_ADMIN: endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
  });
});

afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);

async function read(settings: Partial<typeof DEFAULT_AWS_SETTINGS> = {}) {
  const clients = new AwsClients({ ...DEFAULT_AWS_SETTINGS, maxAttempts: 1, ...settings });
  return readIdentityCenter(clients, { instanceArn: INSTANCE, region: "eu-west-1" });
}

describe("Identity Center status from sso-admin ListInstances", () => {
  it("follows NextToken to find the instance and reads its status", async () => {
    status = "ACTIVE";
    expect(await read()).toEqual({
      instanceArn: INSTANCE,
      status: "found",
      instanceStatus: "ACTIVE",
      identityStoreId: "d-9067c1a2b3",
    });
    expect(targets.slice(-2)).toEqual(["SWBExternalService.ListInstances", "SWBExternalService.ListInstances"]);
  });

  it("reports an instance being deleted as not active", async () => {
    status = "DELETE_IN_PROGRESS";
    expect(checkIdentityCenter(await read()).map((finding) => [finding.code, finding.message])).toEqual([
      ["IDENTITY_CENTER_NOT_ACTIVE", `IAM Identity Center ${INSTANCE} is DELETE_IN_PROGRESS, not ACTIVE.`],
    ]);
  });

  it("reports sso-admin refusing to answer as unreachable, with the error", async () => {
    answer = "unavailable";
    try {
      expect(checkIdentityCenter(await read()).map((finding) => finding.message)).toEqual([
        `IAM Identity Center ${INSTANCE} did not answer (AccessDeniedException: User is not authorized to perform sso:ListInstances).`,
      ]);
    } finally {
      answer = "instances";
    }
  });

  it("gives up on an sso-admin that takes the request and never answers, and reports it unreachable", async () => {
    answer = "never";
    try {
      // The finding names the 300 ms requestTimeout that ended the request: the answer that never came was not waited for.
      const findings = checkIdentityCenter(await read({ requestTimeoutMs: 300 }));
      expect(findings.map((finding) => [finding.code, finding.message])).toEqual([
        [
          "IDENTITY_CENTER_UNREACHABLE",
          `IAM Identity Center ${INSTANCE} did not answer (TimeoutError: @smithy/node-http-handler - [ERROR] ` +
            `a request has exceeded the configured 300 ms requestTimeout).`,
        ],
      ]);
    } finally {
      answer = "instances";
    }
  });
});
