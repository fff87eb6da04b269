// Re-exports the loopback stand-in the drill ships (src/drill/loopback/runbook-sso-admin.ts), so tests use the same one,
// and adds the front the tests put before the emulator for ListRegions, which moto lacks.
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { RegionEntry } from "../../src/drill/loopback/runbook-sso-admin.js";
import { forward } from "./fault-proxy.js";

export * from "../../src/drill/loopback/runbook-sso-admin.js";

const JSON_TYPE = { "content-type": "application/x-amz-json-1.1" };

/**
 * An sso-admin in front of the emulator: every operation goes on to `upstream` as it came (moto does not check
 * signatures), so ListInstances is moto's own. moto 5.2 lacks ListRegions: it is still sent on, so that moto, when it
 * enforces IAM, judges whether the caller may call it (a 403 is the caller's denial and is passed back); any other
 * answer is replaced by `regions`.
 */
export async function startSsoAdminRegionsFront(
  upstream: string,
  regions: RegionEntry[],
): Promise<{ readonly endpoint: string; close(): Promise<void> }> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      if (request.headers["x-amz-target"] !== "SWBExternalService.ListRegions")
        return forward(request, response, target, agent, body);
      // The Host header stays as signed: moto checks the SigV4 signature when it enforces IAM.
      const asked = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
          agent,
        },
        (answer) => {
          if (answer.statusCode === 403) {
            response.writeHead(403, answer.headers);
            answer.pipe(response);
            return;
          }
          answer.resume();
          response.writeHead(200, JSON_TYPE).end(JSON.stringify({ Regions: regions }));
        },
      );
      asked.on("error", () => response.writeHead(502).end());
      asked.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
