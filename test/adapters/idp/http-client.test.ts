// The IdP HTTP client against a real HTTPS server on loopback: retries and waits, time and size limits, and messages that never carry the token.
import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  describeErrorBody,
  IdpHttpClient,
  parseRetryAfter,
  type IdpHttpOptions,
} from "../../../src/adapters/idp/http-client.js";
import { reportingIdpWaits, type IdpWait } from "../../../src/adapters/idp/server-waits.js";
import { startServer, type TestServer } from "../../support/https-server.js";

const TOKEN = "idp-test-token-3a7e9c2b5d1f";
const NOW = Date.parse("2026-10-21T07:28:00Z");
/** The test server's clock, 3 s behind the client's: waits are read against the server's Date header. */
const SERVER_NOW = NOW - 3_000;
const SERVER_DATE = new Date(SERVER_NOW).toUTCString();
const READING = { method: "GET", operation: "reading the thing" } as const;

let server: TestServer;
let base: string;
const hits = new Map<string, number>();
let sleeps: number[];
let options: IdpHttpOptions;

/** Answers with `first` to the first `times` requests to a path, then with `then`. */
function sometimes(path: string, times: number, first: () => void, then: () => void): void {
  if ((hits.get(path) ?? 0) <= times) first();
  else then();
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

beforeAll(async () => {
  server = await startServer((request, response) => {
    const url = new URL(request.url ?? "/", "https://127.0.0.1");
    const path = url.pathname.replace(/^\/scim\/v2/, "");
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const ok = () => json(response, 200, { ok: true });
    const scimError = (status: number, detail: string) => ({
      schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
      status: String(status),
      detail,
    });
    switch (path) {
      case "/throttled-seconds":
        return sometimes(path, 1, () => json(response, 429, scimError(429, "slow down"), { "retry-after": "7" }), ok);
      case "/throttled-date":
        return sometimes(
          path,
          1,
          () =>
            json(response, 429, scimError(429, "slow down"), {
              date: SERVER_DATE,
              "retry-after": "Wed, 21 Oct 2026 07:28:10 GMT",
            }),
          ok,
        );
      case "/throttled-long":
        return sometimes(path, 1, () => json(response, 429, scimError(429, "slow down"), { "retry-after": "315" }), ok);
      case "/throttled-90":
        return json(response, 429, scimError(429, "slow down"), { "retry-after": "90" });
      case "/rate-limit-reset":
        return sometimes(
          path,
          1,
          () =>
            json(
              response,
              429,
              { errorCode: "E0000047", errorSummary: "API call exceeded rate limit due to too many requests." },
              // Okta's own clock, 3 s behind ours: the wait is measured against its Date header, as its SDK does.
              { date: SERVER_DATE, "x-rate-limit-reset": String(SERVER_NOW / 1000 + 12) },
            ),
          ok,
        );
      case "/flaky":
        return sometimes(path, 2, () => json(response, 503, scimError(503, "restarting")), ok);
      case "/down":
        return json(response, 503, scimError(503, "down for maintenance"));
      case "/not-implemented":
        return json(response, 501, scimError(501, "Bulk is not supported"));
      case "/reset-once":
        return sometimes(path, 1, () => request.socket.destroy(), ok);
      case "/never":
        return; // accepts the request and never answers
      case "/big-declared":
        return void response
          .writeHead(200, { "content-type": "application/json", "content-length": String(11 * 1024 * 1024) })
          .write("[");
      case "/big-chunked":
        response.writeHead(200, { "content-type": "application/json" });
        return void response.end(`[${'"x",'.repeat(1000)}"x"]`);
      case "/forbidden":
        return json(response, 403, scimError(403, "The client is not authorized to modify group e9e30dba"));
      case "/echo-token":
        return json(response, 401, scimError(401, `the token in "${request.headers.authorization}" is revoked`));
      case "/echo-token-500":
        return json(response, 500, {
          error: { code: "InternalServerError", message: `upstream refused ${request.headers.authorization}` },
        });
      case "/not-json":
        return void response.writeHead(200, { "content-type": "text/html" }).end("<html>maintenance</html>");
      case "/missing":
        return json(response, 404, scimError(404, "Resource 42 not found"));
      case "/echo-request":
        return json(response, 200, {
          method: request.method,
          accept: request.headers.accept,
          contentType: request.headers["content-type"] ?? null,
          authorization: request.headers.authorization === `Bearer ${TOKEN}`,
        });
      case "/page-1":
        return json(response, 200, { items: [1, 2], next: `${server.url}/scim/v2/page-2` });
      case "/page-2":
        return json(response, 200, { items: [3], next: "https://elsewhere.example/scim/v2/page-3" });
      default:
        return json(response, 404, scimError(404, "Endpoint Not Found"));
    }
  });
  base = `${server.url}/scim/v2`;
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  hits.clear();
  sleeps = [];
  options = {
    api: "SCIM",
    authScheme: "Bearer",
    mediaType: "application/scim+json",
    baseUrl: base,
    token: TOKEN,
    ca: server.ca,
    now: () => NOW,
    random: () => 0.5,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  };
});

describe("retries", () => {
  it("waits the seconds a 429's Retry-After asks for, then succeeds", async () => {
    const response = await new IdpHttpClient(options).send({ ...READING, path: "/throttled-seconds" });
    expect(response.body).toEqual({ ok: true });
    expect(sleeps).toEqual([7_000]);
  });

  it("reads a Retry-After given as an HTTP date against the server's own Date header", async () => {
    await new IdpHttpClient(options).send({ ...READING, path: "/throttled-date" });
    expect(sleeps).toEqual([13_000]);
  });

  it("waits as long as Graph has been seen to ask (315 s) when the ceiling allows it", async () => {
    await new IdpHttpClient({ ...options, maxRetryWaitMs: 600_000, retryBudgetMs: 600_000 }).send({
      ...READING,
      path: "/throttled-long",
    });
    expect(sleeps).toEqual([315_000]);
  });

  it("refuses at once a wait longer than the ceiling (120 s by default), naming the IdP, the wait and the ceiling", async () => {
    await expect(new IdpHttpClient(options).send({ ...READING, path: "/throttled-long" })).rejects.toMatchObject({
      code: "IDP_UNAVAILABLE",
      message:
        `SCIM ${base}: reading the thing: HTTP 429 Too Many Requests: slow down; ` +
        "the server asks to wait 315 s before retrying, longer than the 2 min ceiling",
      hint: "retry later, or raise idp.directory.maxRetryWaitSeconds (one wait) or retryBudgetSeconds (all waits)",
    });
    expect(sleeps).toEqual([]);
  });

  it("stops once the waits together would pass the retry budget (5 min by default)", async () => {
    await expect(new IdpHttpClient(options).send({ ...READING, path: "/throttled-90" })).rejects.toMatchObject({
      code: "IDP_UNAVAILABLE",
      message:
        `SCIM ${base}: reading the thing: HTTP 429 Too Many Requests: slow down; ` +
        "the server asks to wait 90 s more after 270 s of waits, past the 5 min retry budget",
    });
    expect(sleeps).toEqual([90_000, 90_000, 90_000]);
    expect(hits.get("/throttled-90")).toBe(4);
  });

  it("waits until Okta's X-Rate-Limit-Reset by the answer's Date header plus 1 s, as Okta's SDK does", async () => {
    await new IdpHttpClient(options).send({ ...READING, path: "/rate-limit-reset" });
    expect(sleeps).toEqual([13_000]);
  });

  it("tells a listening run step of each wait, the attempt and why", async () => {
    const told: IdpWait[] = [];
    await reportingIdpWaits(
      (wait) => told.push(wait),
      () => new IdpHttpClient(options).send({ ...READING, path: "/throttled-seconds" }),
    );
    expect(told).toEqual([
      {
        attempt: 1,
        attempts: 6,
        waitMilliseconds: 7_000,
        reason: "SCIM answered HTTP 429 Too Many Requests (reading the thing)",
      },
    ]);
  });

  it("backs off exponentially, with jitter, through 503s", async () => {
    const response = await new IdpHttpClient(options).send({ ...READING, path: "/flaky" });
    expect(response.status).toBe(200);
    // 500 ms then 1 s ceilings, half of each jittered: random() = 0.5 gives three quarters.
    expect(sleeps).toEqual([375, 750]);
    const spread = new IdpHttpClient({ ...options, random: () => 0 });
    hits.clear();
    sleeps = [];
    await spread.send({ ...READING, path: "/flaky" });
    expect(sleeps).toEqual([250, 500]);
  });

  it("retries a dropped connection", async () => {
    await expect(new IdpHttpClient(options).send({ ...READING, path: "/reset-once" })).resolves.toMatchObject({
      status: 200,
    });
    expect(sleeps).toHaveLength(1);
  });

  it("gives up after the maximum attempts (6 by default) and says how many it made", async () => {
    await expect(new IdpHttpClient(options).send({ ...READING, path: "/down" })).rejects.toMatchObject({
      code: "IDP_UNAVAILABLE",
      message: `SCIM ${base}: reading the thing: HTTP 503 Service Unavailable: down for maintenance (gave up after 6 attempts)`,
    });
    expect(hits.get("/down")).toBe(6);
    expect(sleeps).toHaveLength(5);
    hits.clear();
    await expect(new IdpHttpClient({ ...options, maxAttempts: 2 }).send({ ...READING, path: "/down" })).rejects.toThrow(
      "(gave up after 2 attempts)",
    );
    expect(hits.get("/down")).toBe(2);
  });

  it("does not retry what cannot improve: 501, 4xx", async () => {
    await expect(new IdpHttpClient(options).send({ ...READING, path: "/not-implemented" })).rejects.toMatchObject({
      code: "IDP_FAILED",
      message: `SCIM ${base}: reading the thing: HTTP 501 Not Implemented: Bulk is not supported`,
    });
    await expect(new IdpHttpClient(options).send({ ...READING, path: "/missing" })).rejects.toMatchObject({
      code: "IDP_NOT_FOUND",
    });
    expect(sleeps).toEqual([]);
  });
});

describe("limits", () => {
  it("times out a server that never answers", async () => {
    // The message is the proof: each attempt ended on its own 0.2 s deadline, not on an answer. Should the deadline
    // never fire, vitest's own timeout fails the test.
    await expect(
      new IdpHttpClient({ ...options, timeoutMs: 200, maxAttempts: 2 }).send({ ...READING, path: "/never" }),
    ).rejects.toMatchObject({
      code: "IDP_TIMEOUT",
      message: `SCIM ${base}: reading the thing: no complete answer within 0.2 s (gave up after 2 attempts)`,
    });
  });

  it("refuses an answer declared larger than 10 MB without reading it, and does not retry", async () => {
    await expect(new IdpHttpClient(options).send({ ...READING, path: "/big-declared" })).rejects.toMatchObject({
      code: "IDP_FAILED",
      message: `SCIM ${base}: reading the thing: refused: the answer is larger than the 10 MB limit`,
    });
    expect(hits.get("/big-declared")).toBe(1);
  });

  it("stops reading an undeclared body once it passes the limit", async () => {
    await expect(
      new IdpHttpClient({ ...options, maxBytes: 1024 }).send({ ...READING, path: "/big-chunked" }),
    ).rejects.toThrow(`SCIM ${base}: reading the thing: refused: the answer is larger than the 1 KB limit`);
  });
});

describe("messages", () => {
  it("names the API, the operation, the status and the server's detail", async () => {
    await expect(
      new IdpHttpClient(options).send({
        method: "PATCH",
        path: "/forbidden",
        body: {},
        operation: "adding user 2819c223 to group e9e30dba",
      }),
    ).rejects.toMatchObject({
      code: "IDP_UNAUTHORIZED",
      message: `SCIM ${base}: adding user 2819c223 to group e9e30dba: HTTP 403 Forbidden: The client is not authorized to modify group e9e30dba`,
      hint: "the API token lacks a permission this operation needs",
    });
  });

  it("never repeats the token, even when the server echoes it back", async () => {
    for (const path of ["/echo-token", "/echo-token-500"]) {
      const failure = await new IdpHttpClient(options).send({ ...READING, path }).catch((error: unknown) => error);
      const everything = JSON.stringify(failure, Object.getOwnPropertyNames(failure));
      expect(everything).not.toContain(TOKEN);
      expect(everything).toContain("Bearer [redacted]");
    }
  });

  it("does not retry, nor trust, a TLS certificate it was not told to trust", async () => {
    const { ca: _ca, ...untrusting } = options;
    await expect(new IdpHttpClient(untrusting).send({ ...READING, path: "/echo-request" })).rejects.toMatchObject({
      code: "TLS_UNTRUSTED",
      message: `SCIM ${base}: reading the thing: the server's TLS certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)`,
    });
    expect(sleeps).toEqual([]);
  });

  it("reports a refused connection after retrying it", async () => {
    await expect(
      new IdpHttpClient({ ...options, baseUrl: "https://127.0.0.1:1/scim/v2", maxAttempts: 2 }).send({
        ...READING,
        path: "/Users",
      }),
    ).rejects.toMatchObject({
      code: "IDP_UNAVAILABLE",
      message: "SCIM https://127.0.0.1:1/scim/v2: reading the thing: connection refused (gave up after 2 attempts)",
    });
  });

  it("does not take a success it cannot read for a success", async () => {
    await expect(new IdpHttpClient(options).send({ ...READING, path: "/not-json" })).rejects.toThrow(
      `SCIM ${base}: reading the thing: unexpected answer: HTTP 200 with a body that is not JSON`,
    );
  });

  it("refuses plain http, and a token that would break the header, without printing the token", () => {
    expect(() => new IdpHttpClient({ ...options, baseUrl: "http://127.0.0.1/scim/v2" })).toThrow(
      "SCIM http://127.0.0.1/scim/v2: refused: an API token is only ever sent over https",
    );
    const broken = "idp-test-token\nX-Injected: yes";
    const failure = (() => {
      try {
        return new IdpHttpClient({ ...options, token: broken });
      } catch (error) {
        return error;
      }
    })();
    expect(failure).toMatchObject({
      code: "USAGE",
      message: `SCIM ${base}: the API token is empty or contains whitespace`,
    });
  });

  it("reads the detail of SCIM, Okta, Graph and OAuth error bodies", () => {
    expect(
      describeErrorBody({
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        scimType: "invalidFilter",
        detail: "bad filter",
        status: "400",
      }),
    ).toBe("invalidFilter: bad filter");
    expect(
      describeErrorBody({
        errorCode: "E0000001",
        errorSummary: "Api validation failed: login",
        errorCauses: [{ errorSummary: "login: An object with this field already exists" }],
      }),
    ).toBe("Api validation failed: login; login: An object with this field already exists");
    expect(
      describeErrorBody({ error: { code: "Request_BadRequest", message: "Invalid object identifier 'x'." } }),
    ).toBe("Request_BadRequest: Invalid object identifier 'x'.");
    expect(describeErrorBody({ error: "invalid_token", error_description: "The access token expired" })).toBe(
      "The access token expired",
    );
    expect(describeErrorBody("not an object")).toBeUndefined();
  });
});

describe("requests", () => {
  it("sends the bearer token, the media type, and a JSON body", async () => {
    const response = await new IdpHttpClient(options).send({
      method: "POST",
      path: "/echo-request",
      body: { a: 1 },
      operation: "echoing",
    });
    expect(response.body).toEqual({
      method: "POST",
      accept: "application/scim+json, application/json;q=0.9",
      contentType: "application/scim+json",
      authorization: true,
    });
  });

  it("hands the caller the error statuses it said it would interpret", async () => {
    await expect(
      new IdpHttpClient(options).send({ ...READING, path: "/missing", handles: [404] }),
    ).resolves.toMatchObject({ status: 404, body: { detail: "Resource 42 not found" } });
  });

  it("follows next-page links on the same host, and refuses to send the token to another", async () => {
    const client = new IdpHttpClient(options);
    const readPage = (body: unknown) => {
      const page = body as { items: number[]; next?: string };
      return { items: page.items, next: page.next };
    };
    await expect(client.collectPages({ ...READING, path: "/page-1" }, readPage)).rejects.toMatchObject({
      code: "IDP_FAILED",
      message:
        `SCIM ${base}: reading the thing: refused to follow a link to another host (elsewhere.example); the ` +
        `token is only sent to 127.0.0.1:${new URL(server.url).port}`,
    });
    expect(hits.get("/page-2")).toBe(1);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates, and ignores anything else", () => {
    expect(parseRetryAfter("120", NOW)).toBe(120_000);
    expect(parseRetryAfter("Wed, 21 Oct 2026 07:29:00 GMT", NOW)).toBe(60_000);
    expect(parseRetryAfter("Wed, 21 Oct 2026 07:00:00 GMT", NOW)).toBe(0);
    expect(parseRetryAfter("soon", NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});
