// Fetching metadata from a real HTTPS server on loopback: conditional GET, redirects, size and time limits, TLS trust.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchMetadata, DEFAULT_FETCH_OPTIONS, type FetchOptions } from "../../src/adapters/metadata/metadata-fetch.js";
import { inspectMetadataSource, MemoryInspectionCache } from "../../src/adapters/metadata/metadata-source.js";
import { FileInspectionCache } from "../../src/adapters/store/file-inspection-cache.js";
import { readCorpusFile } from "../support/corpus.js";
import { startServer, type TestServer } from "../support/https-server.js";

const document = readCorpusFile("google-workspace-aws-federation.xml");
const ENTITY = "https://accounts.google.com/o/saml2?idpid=C04505xo6";
const LAST_MODIFIED = "Tue, 24 Nov 2026 10:00:00 GMT";

let server: TestServer;
let options: FetchOptions;

beforeAll(async () => {
  server = await startServer((request, response) => {
    const url = new URL(request.url ?? "/", "https://127.0.0.1");
    const hops = /^\/redirect\/(\d+)$/.exec(url.pathname);
    if (url.pathname === "/metadata") {
      if (request.headers["if-none-match"] === '"v1"') return void response.writeHead(304, { etag: '"v1"' }).end();
      return void response
        .writeHead(200, { "content-type": "application/samlmetadata+xml", etag: '"v1"' })
        .end(document);
    }
    if (url.pathname === "/last-modified") {
      if (request.headers["if-modified-since"] === LAST_MODIFIED) return void response.writeHead(304).end();
      return void response.writeHead(200, { "last-modified": LAST_MODIFIED }).end(document);
    }
    if (hops) {
      const left = Number(hops[1]);
      return void response.writeHead(302, { location: left === 0 ? "/metadata" : `/redirect/${left - 1}` }).end();
    }
    if (url.pathname === "/to-http")
      return void response.writeHead(301, { location: "http://127.0.0.1:1/metadata" }).end();
    if (url.pathname === "/big-declared")
      return void response.writeHead(200, { "content-length": String(4 * 1024 * 1024) }).end();
    if (url.pathname === "/big-chunked") {
      response.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 4 * 1024 * 1024) {
          sent += chunk.length;
          if (!response.write(chunk)) return void response.once("drain", pump);
        }
        response.end();
      };
      return pump();
    }
    if (url.pathname === "/never") return; // accepts the request and never answers
    if (url.pathname === "/stall-body") {
      response.writeHead(200, { "content-length": String(document.length) });
      return void response.write(document.subarray(0, 100));
    }
    response.writeHead(404).end("not here");
  });
  options = { ...DEFAULT_FETCH_OPTIONS, ca: server.ca, timeoutMs: 5_000 };
});

afterAll(async () => {
  await server.close();
});

describe("conditional GET", () => {
  it("inspects a document fetched over HTTPS, then answers a repeat from the cache on 304 without parsing", async () => {
    const cache = new MemoryInspectionCache();
    const first = await inspectMetadataSource(`${server.url}/metadata`, { cache, fetch: options });
    expect(first.origin).toBe("fetched");
    expect(first.inspection.entities[0]?.entityID).toBe(ENTITY);

    const before = server.requests.length;
    const second = await inspectMetadataSource(`${server.url}/metadata`, { cache, fetch: options });
    expect(second.origin).toBe("not-modified");
    expect(second.inspection).toBe(first.inspection); // the very same object: nothing was parsed
    expect(server.requests[before]?.headers["if-none-match"]).toBe('"v1"');
  });

  it("uses Last-Modified when the server sends no ETag", async () => {
    const cache = new MemoryInspectionCache();
    await inspectMetadataSource(`${server.url}/last-modified`, { cache, fetch: options });
    const second = await inspectMetadataSource(`${server.url}/last-modified`, { cache, fetch: options });
    expect(second.origin).toBe("not-modified");
    expect(server.requests.at(-1)?.headers["if-modified-since"]).toBe(LAST_MODIFIED);
  });

  it("keeps the validators and the inspection on disk between CLI runs", async () => {
    const directory = mkdtempSync(join(tmpdir(), "breakglass-cache-"));
    const first = await inspectMetadataSource(`${server.url}/metadata`, {
      cache: new FileInspectionCache(directory),
      fetch: options,
    });
    const second = await inspectMetadataSource(`${server.url}/metadata`, {
      cache: new FileInspectionCache(directory),
      fetch: options,
    });
    expect(second.origin).toBe("not-modified");
    expect(second.inspection.entities[0]?.certificates[0]?.facts?.notAfter).toEqual(
      first.inspection.entities[0]?.certificates[0]?.facts?.notAfter,
    );
  });
});

describe("redirects", () => {
  it("follows a few redirects", async () => {
    const result = await fetchMetadata(`${server.url}/redirect/3`, options);
    expect(result.kind).toBe("document");
    expect(result.url).toBe(`${server.url}/metadata`);
  });

  it("stops after the redirect limit and says so", async () => {
    await expect(fetchMetadata(`${server.url}/redirect/9`, options)).rejects.toThrow(
      `${server.url}/redirect/9: more than 5 redirects (last to ${server.url}/redirect/3)`,
    );
  });

  it("refuses a redirect from https down to plain http", async () => {
    await expect(fetchMetadata(`${server.url}/to-http`, options)).rejects.toMatchObject({ code: "INSECURE_URL" });
  });
});

describe("limits", () => {
  it("refuses a body whose declared length is over the limit", async () => {
    await expect(fetchMetadata(`${server.url}/big-declared`, { ...options, maxBytes: 1024 * 1024 })).rejects.toThrow(
      `${server.url}/big-declared: refused: the document is larger than the 1 MB limit`,
    );
  });

  it("stops reading a streamed body once it passes the limit", async () => {
    await expect(
      fetchMetadata(`${server.url}/big-chunked`, { ...options, maxBytes: 1024 * 1024 }),
    ).rejects.toMatchObject({ code: "INPUT_TOO_LARGE" });
  });

  it("gives up on a server that never answers", async () => {
    await expect(fetchMetadata(`${server.url}/never`, { ...options, timeoutMs: 300 })).rejects.toThrow(
      `${server.url}/never: no answer within 0.3 s`,
    );
  });

  it("gives up on a body that stalls halfway", async () => {
    await expect(fetchMetadata(`${server.url}/stall-body`, { ...options, timeoutMs: 300 })).rejects.toMatchObject({
      code: "FETCH_TIMEOUT",
    });
  });
});

describe("errors", () => {
  it("does not trust a certificate it was not told to trust", async () => {
    const { ca: _ca, ...untrusting } = options;
    await expect(fetchMetadata(`${server.url}/metadata`, untrusting)).rejects.toThrow(
      /: the server's TLS certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/,
    );
  });

  it("reports an HTTP error status", async () => {
    await expect(fetchMetadata(`${server.url}/missing`, options)).rejects.toThrow(
      `${server.url}/missing: the server answered HTTP 404 Not Found`,
    );
  });

  it("reports a refused connection", async () => {
    await expect(fetchMetadata("https://127.0.0.1:1/metadata", options)).rejects.toThrow(
      "https://127.0.0.1:1/metadata: connection refused",
    );
  });

  it("refuses plain http unless allowed, and fetches it when allowed", async () => {
    const plain = await startServer((_request, response) => void response.end(document), { tls: false });
    try {
      await expect(fetchMetadata(`${plain.url}/metadata`, options)).rejects.toThrow(
        `${plain.url}/metadata: refused to fetch metadata over plain http (${plain.url}/metadata); use https, or pass --allow-insecure-http`,
      );
      const result = await fetchMetadata(`${plain.url}/metadata`, { ...options, allowInsecureHttp: true });
      expect(result.kind).toBe("document");
    } finally {
      await plain.close();
    }
  });
});

describe("the cache and the pinned signer", () => {
  it("does not replay a verdict reached with another signer when the server answers 304", async () => {
    const { parseMetadataSigner } = await import("../../src/adapters/metadata/metadata-signer.js");
    const { freshKeyPair } = await import("../support/certificates.js");
    const cache = new MemoryInspectionCache();
    const first = freshKeyPair();
    const second = freshKeyPair();
    await inspectMetadataSource(`${server.url}/metadata`, {
      cache,
      fetch: options,
      signer: parseMetadataSigner(first.publicKeyPem, "first.pem"),
    });
    const again = await inspectMetadataSource(`${server.url}/metadata`, {
      cache,
      fetch: options,
      signer: parseMetadataSigner(first.publicKeyPem, "first.pem"),
    });
    expect(again.origin).toBe("not-modified");
    const other = await inspectMetadataSource(`${server.url}/metadata`, {
      cache,
      fetch: options,
      signer: parseMetadataSigner(second.publicKeyPem, "second.pem"),
    });
    expect(other.origin).toBe("fetched");
  });
});
