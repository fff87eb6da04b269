// serve's listener drops a client that trickles its headers or body once the request timeout passes, with a 408,
// instead of holding the socket until Node's 30 s connection check.
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { RequestGuard } from "../../src/slack/request-guard.js";
import { SLACK_EVENTS_PATH } from "../../src/slack/slack-surface.js";
import { ServiceHttp } from "../../src/server/service-http.js";
import { ServiceMetrics } from "../../src/server/service-metrics.js";

const listeners: ServiceHttp[] = [];
afterEach(async () => {
  for (const listener of listeners.splice(0)) await listener.close();
});

/** A listener whose request timeout is short enough for a test; `slackCalls` counts requests that reached Bolt. */
async function startListener(requestTimeoutMs: number) {
  const slackCalls: string[] = [];
  const http = new ServiceHttp({
    metrics: new ServiceMetrics(),
    readiness: () => ({ ready: true }),
    slack: {
      guard: new RequestGuard("test-signing-secret", fixedClock(new Date("2026-11-24T12:00:00Z"))),
      listener: (request, response) => {
        slackCalls.push(request.url ?? "");
        response.end();
      },
      responseHosts: new Set(),
    },
    requestTimeoutMs,
    log: { warn: () => undefined },
  });
  listeners.push(http);
  const port = await http.listen(0, "127.0.0.1");
  return { port, slackCalls };
}

/**
 * A client that sends `head` and then one more byte of `trickle` every few milliseconds, as a slowloris does, until the
 * server closes the socket; resolves with everything the server said.
 */
function slowClient(port: number, head: string, trickle: string): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, "127.0.0.1");
    let answer = "";
    let sent = 0;
    let ticker: NodeJS.Timeout | undefined;
    socket.on("connect", () => {
      socket.write(head);
      ticker = setInterval(() => {
        if (sent < trickle.length && socket.writable) socket.write(trickle[sent++]!);
      }, 20);
    });
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(ticker);
      resolve(answer);
    });
  });
}

describe("a request that arrives too slowly", () => {
  it("is dropped with a 408 when its headers trickle in", { timeout: 10_000 }, async () => {
    const { port } = await startListener(200);
    const answer = await slowClient(
      port,
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n",
      "X-Slow: " + "a".repeat(10_000),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it(
    "is dropped with a 408, and never reaches Slack's handler, when its body trickles in",
    { timeout: 10_000 },
    async () => {
      const { port, slackCalls } = await startListener(200);
      const body = "command=%2Fbreakglass&text=status".padEnd(10_000, "x");
      const head =
        `POST ${SLACK_EVENTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ` +
        `application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`;
      const answer = await slowClient(port, head, body);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(slackCalls).toEqual([]);
    },
  );

  it("does not touch a request that arrives whole", { timeout: 10_000 }, async () => {
    const { port } = await startListener(200);
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect({ status: response.status, body: await response.text() }).toEqual({ status: 200, body: "ok\n" });
  });
});
