// A loopback sso-admin (awsJson1_1, X-Amz-Target SWBExternalService.<Operation>) answering ListInstances with one
// instance in a status its owner sets (or dropping every connection: unreachable), because moto always reports Identity
// Center ACTIVE, and ListRegions (multi-Region Identity Center, February 2026), which moto lacks. Reach it through
// AWS_ENDPOINT_URL_SSO_ADMIN.
// Shapes: https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListInstances.html and API_ListRegions.html
// (Regions[].{RegionName, Status: ACTIVE | ADDING | REMOVING, AddedDate, IsPrimaryRegion}, NextToken).
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One Region as ListRegions returns it (AddedDate in epoch seconds, as awsJson sends timestamps). */
export interface RegionEntry {
  readonly RegionName: string;
  readonly Status: "ACTIVE" | "ADDING" | "REMOVING";
  readonly AddedDate: number;
  readonly IsPrimaryRegion: boolean;
}

/**
 * How ListRegions answers: the Regions; AccessDeniedException as sso-admin sends it to a principal without
 * sso:ListRegions; or UnknownOperationException, as an endpoint from before the operation existed does.
 */
export type RegionsAnswer = "regions" | "access-denied" | "unknown-operation";

export interface SsoAdminServer {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL_SSO_ADMIN. */
  readonly endpoint: string;
  /** The instance's Status in the next answers: ACTIVE, CREATE_IN_PROGRESS, DELETE_IN_PROGRESS. */
  status: string;
  /** False: every connection is dropped before an answer, as when Identity Center's Region is unreachable. */
  reachable: boolean;
  /** The instance's Regions in the next ListRegions answers (one page per Region, to follow NextToken). */
  regions: RegionEntry[];
  regionsAnswer: RegionsAnswer;
  /** Each request's X-Amz-Target, in order. */
  readonly targets: string[];
  close(): Promise<void>;
}

const JSON_TYPE = { "content-type": "application/x-amz-json-1.1" };

export async function startSsoAdmin(instanceArn: string, status: string): Promise<SsoAdminServer> {
  const server = createServer((request, response) => {
    if (!state.reachable) return void request.socket.destroy();
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const target = String(request.headers["x-amz-target"]);
      state.targets.push(target);
      if (target === "SWBExternalService.ListRegions") {
        answerListRegions(state, JSON.parse(body || "{}") as { InstanceArn?: string; NextToken?: string }, response);
        return;
      }
      const answer = {
        Instances: [
          {
            InstanceArn: instanceArn,
            IdentityStoreId: "d-9067c1a2b3",
            OwnerAccountId: "123456789012",
            Name: "corp",
            Status: state.status,
            CreatedDate: 1.7e9,
          },
        ],
      };
      response.writeHead(200, JSON_TYPE).end(JSON.stringify(answer));
    });
  });

  function answerListRegions(
    current: SsoAdminServer,
    input: { InstanceArn?: string; NextToken?: string },
    response: ServerResponse,
  ): void {
    if (current.regionsAnswer === "unknown-operation") {
      response
        .writeHead(400, JSON_TYPE)
        .end(JSON.stringify({ __type: "com.amazon.coral.service#UnknownOperationException", message: null }));
      return;
    }
    if (current.regionsAnswer === "access-denied") {
      response.writeHead(400, JSON_TYPE).end(
        JSON.stringify({
          __type: "AccessDeniedException",
          Message:
            "User: arn:aws:sts::123456789012:assumed-role/BreakglassRead/check is not authorized to perform: sso:ListRegions",
        }),
      );
      return;
    }
    if (input.InstanceArn !== instanceArn) {
      response
        .writeHead(400, JSON_TYPE)
        .end(JSON.stringify({ __type: "ResourceNotFoundException", Message: "Instance not found" }));
      return;
    }
    const index = input.NextToken ? Number(input.NextToken.replace("page-", "")) : 0;
    const page = current.regions.slice(index, index + 1);
    const next = index + 1 < current.regions.length ? { NextToken: `page-${index + 1}` } : {};
    response.writeHead(200, JSON_TYPE).end(JSON.stringify({ Regions: page, ...next }));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const state: SsoAdminServer = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    status,
    reachable: true,
    regions: [{ RegionName: "us-east-1", Status: "ACTIVE", AddedDate: 1.7e9, IsPrimaryRegion: true }],
    regionsAnswer: "regions",
    targets: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return state;
}
