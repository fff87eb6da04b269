// An HTTP listener of `breakglass serve`: Slack's requests (checked by the RequestGuard, then handed to Bolt's
// HTTPReceiver), and the operations paths /healthz, /readyz and /metrics; one listener for both, or one for each.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BreakglassError } from "../domain/errors.js";
import type { RequestGuard } from "../slack/request-guard.js";
import { slackPayloadProblem } from "../slack/slack-payload.js";
import { SLACK_EVENTS_PATH } from "../slack/slack-surface.js";
import type { ServiceMetrics } from "./service-metrics.js";

/** Slack's payloads are small; a megabyte is far beyond any real one and bounds what a stranger can make us buffer. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface Readiness {
  readonly ready: boolean;
  readonly [detail: string]: unknown;
}

/**
 * What one listener answers: everything, or with a separate operations port only Slack's path (the one the internet must
 * reach) on the main listener and only health and metrics (which describe the posture) on the operations one.
 */
export type ListenerRole = "all" | "slack" | "operations";

/** The options that set where a listener listens, named in its errors. */
export interface ListenerOptionNames {
  readonly port: string;
  /** The environment variable that sets the port when the option is not given. */
  readonly portVariable: string;
  readonly host: string;
}

export const MAIN_LISTENER_OPTIONS: ListenerOptionNames = { port: "--port", portVariable: "PORT", host: "--host" };

export interface HttpLog {
  warn(message: string): void;
}

export interface ServiceHttpOptions {
  readonly metrics: ServiceMetrics;
  readonly readiness: () => Readiness;
  /** Before /metrics answers: bring gauges read from the store up to date. */
  readonly beforeScrape?: () => void;
  /** Undefined without Slack credentials, or in Socket Mode: /slack/events then answers 404. */
  readonly slack?: {
    readonly guard: RequestGuard;
    readonly listener: (request: IncomingMessage, response: ServerResponse) => void;
    /** Hosts a response_url may point at besides Slack's own: the Web API's host (a proxy, a test stub). */
    readonly responseHosts: ReadonlySet<string>;
  };
  readonly bodyLimit?: number;
  readonly log: HttpLog;
  /** "all" by default. */
  readonly role?: ListenerRole;
  /** Named in the one-line error when the listener cannot listen; --port and --host by default. */
  readonly optionNames?: ListenerOptionNames;
}

export class ServiceHttp {
  private server: Server | undefined;
  private draining = false;

  constructor(private readonly options: ServiceHttpOptions) {}

  async listen(port: number, host?: string): Promise<number> {
    const server = createServer((request, response) => this.route(request, response));
    // Slack gives up after 3 s; a slow client must not hold a socket for minutes.
    server.requestTimeout = 10_000;
    server.headersTimeout = 10_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const refused = (error: NodeJS.ErrnoException) =>
        reject(listenError(error, port, host, this.options.optionNames ?? MAIN_LISTENER_OPTIONS));
      server.once("error", refused);
      server.listen(port, host, () => {
        server.off("error", refused);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  /** Stops taking Slack requests (503) and says so on /readyz, while health and metrics still answer. */
  drain(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  private route(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? "/").split("?")[0];
    const role = this.options.role ?? "all";
    if (path === SLACK_EVENTS_PATH) {
      if (role === "operations")
        plain(response, 404, "not found (Slack's requests go to the main port, not the operations port)\n");
      else this.slackEvent(request, response);
      return;
    }
    if (role === "slack") {
      plain(response, 404, "not found (health and metrics are on the operations port)\n");
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      plain(response, 405, "method not allowed\n");
      return;
    }
    switch (path) {
      case "/healthz":
        plain(response, 200, "ok\n");
        return;
      case "/readyz": {
        const readiness = this.draining ? { ready: false, reason: "shutting down" } : safely(this.options.readiness);
        response
          .writeHead(readiness.ready ? 200 : 503, { "content-type": "application/json" })
          .end(`${JSON.stringify(readiness)}\n`);
        return;
      }
      case "/metrics":
        void this.metrics(response);
        return;
      default:
        plain(response, 404, "not found\n");
    }
  }

  private async metrics(response: ServerResponse): Promise<void> {
    try {
      this.options.beforeScrape?.();
      const text = await this.options.metrics.text();
      response.writeHead(200, { "content-type": this.options.metrics.contentType }).end(text);
    } catch (error) {
      plain(response, 500, `metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }

  private slackEvent(request: IncomingMessage, response: ServerResponse): void {
    const slack = this.options.slack;
    if (slack === undefined) {
      plain(
        response,
        404,
        "this breakglass takes no Slack requests over HTTP (Slack is not configured, or it uses Socket Mode)\n",
      );
      return;
    }
    if (this.draining) {
      // Slack retries events; a command gets Slack's own "failed with the error dispatch_failed" and can be sent again.
      plain(response, 503, "breakglass is shutting down\n");
      return;
    }
    if (request.method !== "POST") {
      plain(response, 405, "method not allowed\n");
      return;
    }
    const started = process.hrtime.bigint();
    const limit = this.options.bodyLimit ?? DEFAULT_BODY_LIMIT;
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        plain(response, 413, "request body too large\n");
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on("error", () => {
      refused = true;
    });
    request.on("end", () => {
      if (refused) return;
      const body = Buffer.concat(chunks);
      const verdict = slack.guard.check(request.headers, body);
      if (!verdict.ok) {
        this.options.metrics.slackRejected(verdict.reason);
        this.options.log.warn(
          `refused a request to ${SLACK_EVENTS_PATH} from ${request.socket.remoteAddress ?? "?"}: ${verdict.detail}`,
        );
        plain(response, 401, "");
        return;
      }
      const problem = slackPayloadProblem(request.headers["content-type"], body, slack.responseHosts);
      if (problem !== null) {
        this.options.metrics.slackRejected("malformed");
        this.options.log.warn(`refused a signed request to ${SLACK_EVENTS_PATH}: ${problem}`);
        plain(response, 400, `malformed Slack request: ${problem}\n`);
        return;
      }
      const kind = requestKind(request.headers["content-type"], body);
      response.once("finish", () => {
        this.options.metrics.slackAcknowledged(kind, Number(process.hrtime.bigint() - started) / 1e9);
      });
      // Bolt reads the body from rawBody when it is already buffered (HTTPModuleFunctions.bufferIncomingMessage) and
      // verifies the signature again itself.
      (request as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
      try {
        slack.listener(request, response);
      } catch (error) {
        this.options.log.warn(
          `Bolt could not take a request: ${error instanceof Error ? error.message : String(error)}`,
        );
        if (!response.headersSent) plain(response, 500, "");
      }
    });
  }
}

/** Why the service cannot listen, in one line naming the setting to change. */
function listenError(
  error: NodeJS.ErrnoException,
  port: number,
  host: string | undefined,
  names: ListenerOptionNames,
): Error {
  const where = host === undefined ? `port ${port}` : `${host} port ${port}`;
  switch (error.code) {
    case "EADDRINUSE":
      return new BreakglassError(
        "USAGE",
        names.port,
        `${where} is already in use (another breakglass serve?); choose another with ${names.port} or ${names.portVariable}`,
      );
    case "EACCES":
      return new BreakglassError(
        "USAGE",
        names.port,
        `${where} needs privileges this process does not have; use a port above 1023`,
      );
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return new BreakglassError("USAGE", names.host, `${host ?? "?"} is not an address of this machine`);
    default:
      return new BreakglassError("USAGE", names.port, `cannot listen on ${where}: ${error.message}`);
  }
}

function plain(response: ServerResponse, status: number, text: string): void {
  if (response.headersSent) return;
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(text);
}

function safely(readiness: () => Readiness): Readiness {
  try {
    return readiness();
  } catch (error) {
    return { ready: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** command, interaction or event: what the ack-latency histogram is labelled with. */
function requestKind(contentType: string | undefined, body: Buffer): string {
  if (contentType?.includes("application/json")) return "event";
  const head = body.subarray(0, 2048).toString("utf8");
  if (head.startsWith("payload=")) return "interaction";
  return /(?:^|&)command=/.test(head) ? "command" : "other";
}
