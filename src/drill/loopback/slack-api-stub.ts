// A local stand-in for Slack's Web API (https://docs.slack.dev/reference/methods) and for response_url: it answers the
// methods breakglass calls the way Slack documents them and records every call, so tests and the drill see what users would.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { blockKitProblems, blockTextTotal, MESSAGE_BLOCK_TEXT_LIMIT } from "./block-kit-limits.js";

export interface RecordedCall {
  readonly method: string;
  readonly token: string | null;
  /** The arguments, with JSON-encoded ones (blocks, view, attachments) decoded. */
  readonly args: Record<string, unknown>;
}

/** A file's bytes POSTed to an upload URL that files.getUploadURLExternal handed out. */
export interface RecordedUpload {
  readonly fileId: string;
  readonly filename: string;
  /** The request body as received: raw bytes or a multipart form, both of which Slack accepts. */
  readonly body: string;
}

/** The bot scopes of examples/slack-app-manifest.yaml: what an installed breakglass app has. */
export const MANIFEST_BOT_SCOPES = [
  "commands",
  "chat:write",
  "files:read",
  "files:write",
  "users:read",
  "users:read.email",
  "usergroups:read",
] as const;

/** The scope each method needs (docs.slack.dev/reference/methods): without it Slack answers missing_scope. */
const NEEDED_SCOPE: Readonly<Record<string, string>> = {
  "chat.postMessage": "chat:write",
  "chat.update": "chat:write",
  "chat.postEphemeral": "chat:write",
  "files.info": "files:read",
  "files.getUploadURLExternal": "files:write",
  "files.completeUploadExternal": "files:write",
  "users.info": "users:read",
  "usergroups.users.list": "usergroups:read",
};

export interface RecordedResponse {
  readonly path: string;
  readonly body: Record<string, unknown>;
}

type Answer =
  | Record<string, unknown>
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string };

export interface SlackApiStub {
  /** Ends in /api/, as WebClient's slackApiUrl expects. */
  readonly apiUrl: string;
  readonly baseUrl: string;
  readonly calls: RecordedCall[];
  readonly responses: RecordedResponse[];
  /** Files POSTed to upload URLs, in order. */
  readonly uploads: RecordedUpload[];
  /** The bot token's scopes from now on (MANIFEST_BOT_SCOPES until set): a method needing another answers missing_scope. */
  setScopes(scopes: readonly string[]): void;
  /** Calls of one method, in order. */
  callsTo(method: string): RecordedCall[];
  /** A response_url for a slash command or button press; what is POSTed to it lands in `responses`. */
  responseUrl(name: string): string;
  /** The next answers for `method` (then it answers normally again): an error body, or an HTTP status. */
  failNext(method: string, ...answers: Answer[]): void;
  /**
   * Holds the answer to the next call of `method` until `release()`: `reached` settles when that call has arrived (and
   * is recorded), so a test can act while Slack has not answered yet, as on a slow network.
   */
  holdNext(method: string): { readonly reached: Promise<RecordedCall>; release(): void };
  /** Members of a user group, for usergroups.users.list. */
  setUserGroup(groupId: string, users: readonly string[]): void;
  /** apps.connections.open answers with this WebSocket URL (Socket Mode). */
  setSocketUrl(url: string): void;
  /** users.info answers with this email for the user. */
  setUser(userId: string, email: string, name?: string): void;
  /**
   * A file a person uploaded (as into a modal's file_input): files.info describes it, and its url_private serves it to
   * the bot token only. Returns the file object Slack puts in the view_submission's state.
   */
  shareFile(name: string, content: string, user: string): SharedFile;
  close(): Promise<void>;
}

/** A file object as files.info and a file_input's state describe it (the fields breakglass reads, and a few more). */
export interface SharedFile {
  readonly id: string;
  readonly name: string;
  readonly title: string;
  readonly mimetype: string;
  readonly filetype: string;
  readonly size: number;
  readonly user: string;
  readonly url_private: string;
  readonly url_private_download: string;
}

export const STUB_BOT_TOKEN = "xoxb-test-not-a-real-token";
export const STUB_APP_TOKEN = "xapp-test-not-a-real-token";

export async function startSlackApiStub(): Promise<SlackApiStub> {
  const calls: RecordedCall[] = [];
  const responses: RecordedResponse[] = [];
  const failures = new Map<string, Answer[]>();
  const holds = new Map<string, { arrived: (call: RecordedCall) => void; released: Promise<void> }[]>();
  const groups = new Map<string, readonly string[]>();
  const users = new Map<string, { email: string; name: string }>();
  const uploads: RecordedUpload[] = [];
  const uploadUrls = new Map<string, { fileId: string; filename: string; length: number }>();
  let scopes: readonly string[] = MANIFEST_BOT_SCOPES;
  let files = 0;
  const shared = new Map<string, { file: SharedFile; content: string }>();
  let baseUrl = "";
  let ts = 1_700_000_000;
  let socketUrl: string | undefined;

  const answer = (method: string, args: Record<string, unknown>): Record<string, unknown> => {
    switch (method) {
      case "auth.test":
        return {
          ok: true,
          url: "https://example.slack.com/",
          team: "Example",
          user: "breakglass",
          team_id: "T0000000001",
          user_id: "U0BREAKGLASS",
          bot_id: "B0000000001",
        };
      case "chat.postMessage": {
        const refused = refusedBlocks(args);
        if (refused !== undefined) return refused;
        ts += 1;
        const stamp = `${ts}.000100`;
        return { ok: true, channel: args["channel"], ts: stamp, message: { ...args, ts: stamp, type: "message" } };
      }
      case "chat.update":
        return refusedBlocks(args) ?? { ok: true, channel: args["channel"], ts: args["ts"], text: args["text"] };
      case "chat.postEphemeral":
        ts += 1;
        return { ok: true, message_ts: `${ts}.000200` };
      case "views.publish":
      case "views.open":
      case "views.update":
        return { ok: true, view: { id: "V0000000001", ...(args["view"] as object) } };
      case "users.info": {
        const user = users.get(String(args["user"]));
        if (user === undefined) return { ok: false, error: "user_not_found" };
        return {
          ok: true,
          user: {
            id: args["user"],
            name: user.name,
            real_name: user.name,
            profile: { email: user.email, real_name: user.name },
          },
        };
      }
      case "usergroups.users.list": {
        const members = groups.get(String(args["usergroup"]));
        return members === undefined ? { ok: false, error: "no_such_subteam" } : { ok: true, users: members };
      }
      case "files.info": {
        const found = shared.get(String(args["file"]));
        return found === undefined ? { ok: false, error: "file_not_found" } : { ok: true, file: found.file };
      }
      case "files.getUploadURLExternal": {
        const length = Number(args["length"]);
        if (typeof args["filename"] !== "string" || !Number.isInteger(length) || length < 0)
          return { ok: false, error: "invalid_arguments" };
        files += 1;
        const fileId = `F0FILE${String(files).padStart(5, "0")}`;
        const token = `${fileId}-${Math.random().toString(36).slice(2)}`;
        uploadUrls.set(token, { fileId, filename: args["filename"], length });
        return { ok: true, upload_url: `${baseUrl}/upload/v1/${token}`, file_id: fileId };
      }
      case "files.completeUploadExternal": {
        const listed = Array.isArray(args["files"]) ? (args["files"] as { id?: unknown; title?: unknown }[]) : [];
        const known = listed.map((file) => [...uploadUrls.values()].find((upload) => upload.fileId === file.id));
        if (listed.length === 0 || known.some((upload) => upload === undefined))
          return { ok: false, error: "invalid_arguments" };
        if (known.some((upload) => !uploads.some((done) => done.fileId === upload?.fileId)))
          return { ok: false, error: "file_not_found" };
        return {
          ok: true,
          files: listed.map((file, index) => ({
            id: file.id,
            name: known[index]?.filename,
            title: typeof file.title === "string" ? file.title : known[index]?.filename,
          })),
        };
      }
      case "apps.connections.open":
        return socketUrl === undefined ? { ok: false, error: "not_allowed_token_type" } : { ok: true, url: socketUrl };
      default:
        return { ok: false, error: "unknown_method" };
    }
  };

  const server: Server = createServer((request, response) => {
    void readBody(request).then(async (raw) => {
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      if (url.pathname.startsWith("/upload/v1/")) {
        // Slack's file upload service: the bytes of a file whose URL files.getUploadURLExternal handed out.
        const upload = uploadUrls.get(url.pathname.slice("/upload/v1/".length));
        if (upload === undefined) {
          response.writeHead(404, { "content-type": "text/plain" }).end("not found");
          return;
        }
        uploads.push({ fileId: upload.fileId, filename: upload.filename, body: raw });
        response.writeHead(200, { "content-type": "text/plain" }).end(`OK - ${Buffer.byteLength(raw)}`);
        return;
      }
      if (url.pathname.startsWith("/files-pri/")) {
        // url_private: only with the bot token in the Authorization header; anyone else is sent to the sign-in page.
        const found = [...shared.values()].find(({ file }) => url.pathname.includes(`-${file.id}/`));
        if (request.headers.authorization !== `Bearer ${STUB_BOT_TOKEN}`) {
          response.writeHead(302, { location: "https://example.slack.com/?redir=%2Ffiles-pri" }).end();
        } else if (found === undefined) {
          response.writeHead(404, { "content-type": "text/plain" }).end("file_not_found");
        } else {
          response.writeHead(200, { "content-type": found.file.mimetype }).end(found.content);
        }
        return;
      }
      if (url.pathname.startsWith("/response/")) {
        responses.push({ path: url.pathname, body: parseJson(raw) });
        response.writeHead(200, { "content-type": "text/plain" }).end("ok");
        return;
      }
      const method = url.pathname.replace(/^\/api\//, "");
      const args = parseArgs(request.headers["content-type"] ?? "", raw);
      const authorization = request.headers.authorization ?? null;
      const token = authorization?.startsWith("Bearer ")
        ? authorization.slice(7)
        : typeof args["token"] === "string"
          ? args["token"]
          : null;
      const call = { method, token, args };
      calls.push(call);
      const hold = holds.get(method)?.shift();
      if (hold !== undefined) {
        hold.arrived(call);
        await hold.released;
      }
      const queued = failures.get(method)?.shift();
      if (queued !== undefined && "status" in queued && typeof queued.status === "number") {
        const failure = queued as { status: number; headers?: Record<string, string>; body?: string };
        response.writeHead(failure.status, failure.headers ?? {}).end(failure.body ?? "");
        return;
      }
      const allowed = method === "apps.connections.open" ? token === STUB_APP_TOKEN : token === STUB_BOT_TOKEN;
      const needed = NEEDED_SCOPE[method];
      const body =
        queued ??
        (token === null
          ? { ok: false, error: "not_authed" }
          : !allowed
            ? { ok: false, error: "invalid_auth" }
            : needed !== undefined && !scopes.includes(needed)
              ? { ok: false, error: "missing_scope", needed, provided: scopes.join(",") }
              : answer(method, args));
      response.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    apiUrl: `${baseUrl}/api/`,
    baseUrl,
    calls,
    responses,
    uploads,
    setScopes: (granted) => {
      scopes = granted;
    },
    callsTo: (method) => calls.filter((call) => call.method === method),
    responseUrl: (name) => `${baseUrl}/response/${encodeURIComponent(name)}`,
    failNext: (method, ...answers) => failures.set(method, [...(failures.get(method) ?? []), ...answers]),
    holdNext: (method) => {
      let arrived: (call: RecordedCall) => void = () => undefined;
      let release: () => void = () => undefined;
      const reached = new Promise<RecordedCall>((resolve) => (arrived = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      holds.set(method, [...(holds.get(method) ?? []), { arrived, released }]);
      return { reached, release };
    },
    setUserGroup: (groupId, members) => groups.set(groupId, members),
    setSocketUrl: (url) => {
      socketUrl = url;
    },
    setUser: (userId, email, name = userId.toLowerCase()) => users.set(userId, { email, name }),
    shareFile: (name, content, user) => {
      files += 1;
      const id = `F0SHARED${String(files).padStart(4, "0")}`;
      const url = `${baseUrl}/files-pri/T0000000001-${id}/${encodeURIComponent(name)}`;
      const file: SharedFile = {
        id,
        name,
        title: name,
        mimetype: "text/plain",
        filetype: "text",
        size: Buffer.byteLength(content),
        user,
        url_private: url,
        url_private_download: `${url.replace(`/${encodeURIComponent(name)}`, "")}/download/${encodeURIComponent(name)}`,
      };
      shared.set(id, { file, content });
      return file;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/**
 * What Slack answers for blocks it refuses: invalid_blocks (with the problems in `errors`) for a broken limit,
 * msg_blocks_too_long when their text adds up past what one message holds.
 */
function refusedBlocks(args: Record<string, unknown>): Record<string, unknown> | undefined {
  const blocks = args["blocks"];
  if (!Array.isArray(blocks)) return undefined;
  const problems = blockKitProblems(blocks);
  if (problems.length > 0) return { ok: false, error: "invalid_blocks", errors: problems };
  if (blockTextTotal(blocks) > MESSAGE_BLOCK_TEXT_LIMIT) return { ok: false, error: "msg_blocks_too_long" };
  return undefined;
}

function parseJson(raw: string): Record<string, unknown> {
  try {
    return JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return { raw };
  }
}

/** WebClient sends form fields, JSON-encoding objects such as blocks; decode them back. */
function parseArgs(contentType: string, raw: string): Record<string, unknown> {
  if (contentType.includes("application/json")) return parseJson(raw);
  const args: Record<string, unknown> = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    args[name] = /^[[{]/.test(value) ? parseJson(value) : value;
  }
  return args;
}
