// A loopback sso-admin answering ListInstances (awsJson1_1, X-Amz-Target SWBExternalService.ListInstances) with one instance in a status its owner sets,
// or drops every connection (unreachable), because moto always reports Identity Center ACTIVE. Reach it through AWS_ENDPOINT_URL_SSO_ADMIN.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface SsoAdminServer {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL_SSO_ADMIN. */
  readonly endpoint: string;
  /** The instance's Status in the next answers: ACTIVE, CREATE_IN_PROGRESS, DELETE_IN_PROGRESS. */
  status: string;
  /** False: every connection is dropped before an answer, as when Identity Center's Region is unreachable. */
  reachable: boolean;
  close(): Promise<void>;
}

export async function startSsoAdmin(instanceArn: string, status: string): Promise<SsoAdminServer> {
  const server = createServer((request, response) => {
    if (!state.reachable) return void request.socket.destroy();
    request.resume();
    request.on("end", () => {
      const body = {
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
      response.writeHead(200, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const state: SsoAdminServer = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    status,
    reachable: true,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return state;
}
