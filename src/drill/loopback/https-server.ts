// A real HTTPS server on 127.0.0.1 with a certificate made for the test, standing in for an IdP's metadata endpoint.
import { createServer as createHttpsServer } from "node:https";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { makeCertificate } from "./certificates.js";

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export interface TestServer {
  readonly url: string;
  /** PEM of the server certificate, to trust it in the client. */
  readonly ca: string;
  readonly requests: IncomingMessage[];
  close(): Promise<void>;
}

export async function startServer(handler: Handler, options: { tls?: boolean } = {}): Promise<TestServer> {
  const requests: IncomingMessage[] = [];
  const certificate = makeCertificate({ commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"] });
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    requests.push(request);
    handler(request, response);
  };
  const tls = options.tls ?? true;
  const server: Server = tls
    ? createHttpsServer({ key: certificate.privateKeyPem, cert: certificate.pem }, listener)
    : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    ca: certificate.pem,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
