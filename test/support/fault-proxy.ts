// A loopback HTTP proxy in front of moto that answers a seeded share of requests with AWS throttling or 503 errors instead,
// and can withhold the answer to one call that moto applied (a caller that dies in the middle of it).
import {
  Agent,
  createServer,
  request as forwardRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { seededRandom } from "./seeded-random.js";

export interface FaultProxyOptions {
  /** Seeds the fault sequence: the same seed and the same request order give the same faults. */
  readonly seed: number;
  /** Share of requests, 0 to 1, answered with a throttling error. */
  readonly throttleRate: number;
  /** Share of requests, 0 to 1, answered with HTTP 503. */
  readonly serverErrorRate: number;
}

export interface FaultProxyStats {
  forwarded: number;
  denied: number;
  throttled: number;
  serverErrors: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT, for an AWS SDK client's `endpoint` in place of moto's. */
  readonly endpoint: string;
  stats(): FaultProxyStats;
  setRates(throttleRate: number, serverErrorRate: number): void;
  /** Answers sts:AssumeRole into these accounts with AccessDenied, as AWS does when the role's trust or the caller's policy refuses. */
  denyAssumeRoleInto(accountIds: readonly string[]): void;
  /** How many requests named this API action (query protocol's Action, or a JSON service's X-Amz-Target). */
  requestsFor(action: string): number;
  /**
   * The next request for `action` is forwarded to moto, which applies it, and its answer is then never passed on: the
   * caller waits on an open connection, as when a call is in flight at the moment its process dies. Resolves once moto
   * has answered that request. Later requests for it are forwarded as usual.
   */
  withholdAnswerTo(action: string): Promise<void>;
  stop(): Promise<void>;
}

type Fault = "throttle" | "server-error";
type Protocol = "json" | "query";

/** Connection-scoped headers (RFC 9110 §7.6.1) that belong to one hop and must not be passed on. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

export async function startFaultProxy(target: string, options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(target);
  if (upstream.protocol !== "http:") throw new Error(`fault proxy target must be an http:// URL, not ${target}`);
  let rates = checkedRates(options.throttleRate, options.serverErrorRate);
  const random = seededRandom(options.seed);
  const counts: FaultProxyStats = { forwarded: 0, denied: 0, throttled: 0, serverErrors: 0 };
  const agent = new Agent({ keepAlive: true });

  let deniedAccounts = new Set<string>();
  const actions = new Map<string, number>();
  let withheld: { readonly action: string; readonly applied: () => void } | undefined;
  const server = createServer((incoming, outgoing) => {
    // Reading the body first is fine here: AWS API requests are small.
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.once("end", () => {
      const body = Buffer.concat(chunks);
      const action =
        new URLSearchParams(body.toString("utf8")).get("Action") ?? String(incoming.headers["x-amz-target"] ?? "");
      if (action) actions.set(action, (actions.get(action) ?? 0) + 1);
      if (withheld !== undefined && action === withheld.action) {
        const { applied } = withheld;
        withheld = undefined;
        counts.forwarded += 1;
        forwardWithoutAnswer(incoming, upstream, agent, body, applied);
        return;
      }
      const denied = deniedAccounts.size > 0 ? assumeRoleTarget(body.toString("utf8")) : undefined;
      if (denied && deniedAccounts.has(denied.accountId)) {
        counts.denied += 1;
        answerAccessDenied(outgoing, denied.roleArn);
        return;
      }
      const draw = random();
      const fault: Fault | null =
        draw < rates.throttleRate
          ? "throttle"
          : draw < rates.throttleRate + rates.serverErrorRate
            ? "server-error"
            : null;
      if (fault === null) {
        counts.forwarded += 1;
        forward(incoming, outgoing, upstream, agent, body);
        return;
      }
      if (fault === "throttle") counts.throttled += 1;
      else counts.serverErrors += 1;
      const requestId = `fault-proxy-${String(counts.throttled + counts.serverErrors).padStart(8, "0")}`;
      answerWithFault(outgoing, fault, protocolOf(incoming.headers), requestId);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: () => ({ ...counts }),
    setRates: (throttleRate, serverErrorRate) => {
      rates = checkedRates(throttleRate, serverErrorRate);
    },
    denyAssumeRoleInto: (accountIds) => {
      deniedAccounts = new Set(accountIds);
    },
    requestsFor: (action) => actions.get(action) ?? 0,
    withholdAnswerTo: (action) =>
      new Promise<void>((resolve) => {
        withheld = { action, applied: resolve };
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          agent.destroy();
          resolve();
        });
      }),
  };
}

/** Passes one request on to `upstream` unchanged and streams the answer back. */
export function forward(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  upstream: URL,
  agent: Agent,
  body: Buffer,
): void {
  // The Host header stays as the client sent it: it is part of the SigV4 signature, which moto checks when IAM
  // enforcement is on, and moto server mode routes loopback requests by the Authorization header's service anyway.
  const outbound = forwardRequest(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: incoming.method,
      path: incoming.url,
      headers: endToEndHeaders(incoming.headers),
      agent,
    },
    (response) => {
      outgoing.writeHead(response.statusCode ?? 502, endToEndHeaders(response.headers));
      response.pipe(outgoing);
      response.once("error", () => outgoing.destroy());
    },
  );
  outbound.once("error", (error) => {
    if (outgoing.headersSent) return void outgoing.destroy();
    outgoing
      .writeHead(502, { "content-type": "text/plain" })
      .end(`fault proxy could not reach ${upstream.origin}: ${error.message}`);
  });
  outbound.end(body);
}

/** Passes one request on to `upstream` and reads its answer, which goes no further: `outgoing` is left unanswered. */
function forwardWithoutAnswer(
  incoming: IncomingMessage,
  upstream: URL,
  agent: Agent,
  body: Buffer,
  answered: () => void,
): void {
  const outbound = forwardRequest(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: incoming.method,
      path: incoming.url,
      headers: endToEndHeaders(incoming.headers),
      agent,
    },
    (response) => {
      response.resume();
      response.once("end", answered);
    },
  );
  outbound.end(body);
}

/** The role an STS AssumeRole request (query protocol, form-encoded) asks for. */
function assumeRoleTarget(body: string): { roleArn: string; accountId: string } | undefined {
  const form = new URLSearchParams(body);
  const roleArn = form.get("RoleArn");
  if (form.get("Action") !== "AssumeRole" || !roleArn) return undefined;
  const accountId = /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn)?.[1];
  return accountId ? { roleArn, accountId } : undefined;
}

function answerAccessDenied(outgoing: ServerResponse, roleArn: string): void {
  const body =
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
    `<Message>User: arn:aws:iam::123456789012:user/breakglass is not authorized to perform: sts:AssumeRole on resource: ${roleArn}</Message></Error>` +
    `<RequestId>fault-proxy-denied</RequestId></ErrorResponse>`;
  outgoing.writeHead(403, { "content-type": "text/xml", "content-length": Buffer.byteLength(body) }).end(body);
}

function endToEndHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
}

/** The SDK reads errors by protocol: JSON services by `__type`, query services (IAM, STS) from an XML ErrorResponse. */
function protocolOf(headers: IncomingHttpHeaders): Protocol {
  const contentType = headers["content-type"] ?? "";
  if (headers["x-amz-target"] !== undefined || contentType.startsWith("application/x-amz-json")) return "json";
  return "query";
}

function answerWithFault(outgoing: ServerResponse, fault: Fault, protocol: Protocol, requestId: string): void {
  // 400 + Throttling is what AWS sends when a caller is over its rate; 503 is a transient outage. The SDK retries both.
  const status = fault === "throttle" ? 400 : 503;
  const code =
    fault === "throttle"
      ? protocol === "json"
        ? "ThrottlingException"
        : "Throttling"
      : protocol === "json"
        ? "ServiceUnavailableException"
        : "ServiceUnavailable";
  const message = fault === "throttle" ? "Rate exceeded" : "Service is unavailable, try again";
  if (protocol === "json") {
    const body = JSON.stringify({ __type: code, message });
    outgoing
      .writeHead(status, {
        "content-type": "application/x-amz-json-1.1",
        "x-amzn-requestid": requestId,
        "x-amzn-errortype": code,
        "content-length": Buffer.byteLength(body),
      })
      .end(body);
    return;
  }
  const type = fault === "throttle" ? "Sender" : "Receiver";
  const body =
    `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>${type}</Type><Code>${code}</Code>` +
    `<Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  outgoing
    .writeHead(status, {
      "content-type": "text/xml",
      "x-amzn-requestid": requestId,
      "content-length": Buffer.byteLength(body),
    })
    .end(body);
}

function checkedRates(
  throttleRate: number,
  serverErrorRate: number,
): { throttleRate: number; serverErrorRate: number } {
  const valid = (rate: number) => Number.isFinite(rate) && rate >= 0 && rate <= 1;
  if (!valid(throttleRate) || !valid(serverErrorRate) || throttleRate + serverErrorRate > 1) {
    throw new RangeError(
      `fault rates must be between 0 and 1 and add up to at most 1, not ${throttleRate} and ${serverErrorRate}`,
    );
  }
  return { throttleRate, serverErrorRate };
}
