// Slack's side of Socket Mode (https://docs.slack.dev/apis/events-api/using-socket-mode) on loopback: a WebSocket server
// that says hello, sends envelopes as Slack does, and collects the app's acknowledgements.
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export interface Acknowledgement {
  readonly envelope_id: string;
  readonly payload?: Record<string, unknown>;
}

export interface SlackSocketServer {
  readonly url: string;
  /** Sends an envelope to the connected app and resolves with its acknowledgement. */
  send(
    type: "slash_commands" | "interactive" | "events_api",
    payload: Record<string, unknown>,
  ): Promise<Acknowledgement>;
  close(): Promise<void>;
}

export async function startSlackSocketServer(): Promise<SlackSocketServer> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  let socket: WebSocket | undefined;
  const connected = new Promise<WebSocket>((resolve) => {
    server.on("connection", (connection) => {
      socket = connection;
      connection.send(
        JSON.stringify({
          type: "hello",
          num_connections: 1,
          debug_info: { host: "applink-test", approximate_connection_time: 18060 },
          connection_info: { app_id: "A0000000001" },
        }),
      );
      resolve(connection);
    });
  });
  const waiting = new Map<string, (ack: Acknowledgement) => void>();
  let envelopes = 0;
  void connected.then((connection) =>
    connection.on("message", (data: Buffer) => {
      const ack = JSON.parse(data.toString("utf8")) as Acknowledgement;
      waiting.get(ack.envelope_id)?.(ack);
    }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/link/?ticket=test`,
    async send(type, payload) {
      const connection = await connected;
      const envelopeId = `envelope-${++envelopes}`;
      const acknowledged = new Promise<Acknowledgement>((resolve) => waiting.set(envelopeId, resolve));
      connection.send(
        JSON.stringify({
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: type !== "events_api",
          retry_attempt: 0,
          retry_reason: "",
        }),
      );
      return acknowledged;
    },
    close: () =>
      new Promise<void>((resolve) => {
        socket?.terminate();
        server.close(() => resolve());
      }),
  };
}
