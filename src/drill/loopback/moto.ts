// Runs moto's standalone server (the AWS API emulator) on a free loopback port, for `breakglass drill` and the integration tests.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BreakglassError } from "../../domain/errors.js";

/** Where `node scripts/ensure-moto.mjs` installs moto's server: the project's .venv (from src/ and from dist/ alike). */
export const MOTO_SERVER_PATH = fileURLToPath(new URL("../../../.venv/bin/moto_server", import.meta.url));
/** The one line that says how to get the emulator, for whoever finds it missing. */
export const MOTO_INSTALL_HINT = "run `node scripts/ensure-moto.mjs` to install moto's server into .venv";

/** The project's moto_server (`project`), else one on PATH; undefined when neither exists. */
export function findMotoServer(
  path: string = process.env["PATH"] ?? "",
  project: string = MOTO_SERVER_PATH,
): string | undefined {
  if (existsSync(project)) return project;
  return path
    .split(delimiter)
    .filter((folder) => folder !== "")
    .map((folder) => join(folder, "moto_server"))
    .find((candidate) => existsSync(candidate));
}

/** moto's default account: every request signed with an unknown access key lands here. */
export const MOTO_DEFAULT_ACCOUNT_ID = "123456789012";

const STARTUP_DEADLINE_MS = 30_000;
const STOP_GRACE_MS = 5_000;
/** Enough of stderr to show why the server died, without keeping Werkzeug's access log forever. */
const STDERR_TAIL_CHARS = 8_192;

export interface MotoServer {
  /** http://127.0.0.1:PORT, for an AWS SDK client's `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits until it has exited. */
  stop(): Promise<void>;
  /** Forgets every resource in every account and region (moto's POST /moto-api/reset). */
  reset(): Promise<void>;
}

export interface MotoOptions {
  /** Extra environment for the server, e.g. { INITIAL_NO_AUTH_ACTION_COUNT: "0" } to enforce IAM policies. */
  readonly env?: Record<string, string>;
  /**
   * Answer one request at a time. moto applies a TransactWriteItems item by item and, when one fails, restores a copy
   * of the whole table taken before it: with two requests at once that undoes the other's committed write. DynamoDB
   * itself isolates transactions (they are serializable), which one request at a time reproduces; tests of concurrent
   * writers on the DynamoDB store need this.
   */
  readonly serialized?: boolean;
}

/**
 * moto_server's own main, with Werkzeug told to serve one request at a time (moto_server has no flag for it). A client
 * that connects and then sends nothing (a process stopped mid-request) would hold the only server thread forever: a
 * connection silent for 5 s is dropped instead, and the client's SDK retries.
 */
const SERIALIZED_MAIN =
  "import moto.server as server; import werkzeug.serving as serving; serving.WSGIRequestHandler.timeout = 5; " +
  "run = server.run_simple; " +
  "server.run_simple = lambda *args, **options: run(*args, **{**options, 'threaded': False}); server.main()";

export interface AwsClientConfig {
  region: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** Config for any AWS SDK v3 client that talks to moto as its default account. */
export function awsClientConfig(endpoint: string, region = "us-east-1"): AwsClientConfig {
  return { region, endpoint, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
}

/** Servers not stopped yet; a test file that forgets stop() must not leave one running after its worker exits. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  const server = findMotoServer();
  if (server === undefined) throw new BreakglassError("USAGE", MOTO_SERVER_PATH, `is missing: ${MOTO_INSTALL_HINT}`);
  // Another process can take the port between our probe and moto's bind, so a lost race gets one more try.
  try {
    return await launch(server, options);
  } catch (error) {
    if (error instanceof Error && /address already in use/i.test(error.message)) return launch(server, options);
    throw error;
  }
}

async function launch(server: string, options: MotoOptions): Promise<MotoServer> {
  const port = await freeLoopbackPort();
  const endpoint = `http://127.0.0.1:${port}`;
  // Without -r (the reloader) moto_server is one process with no children, so signalling it is enough. It stays in
  // our process group on purpose: a Ctrl-C in the terminal then stops it too instead of leaving it orphaned.
  // stderr (Werkzeug's access log) goes to a file, not a pipe: a process that blocks its event loop (the DynamoDB
  // store's synchronous calls wait in Atomics.wait) would otherwise stop draining the pipe, and moto would hang once it
  // filled.
  const logFolder = mkdtempSync(join(tmpdir(), "breakglass-moto-"));
  const logPath = join(logFolder, "stderr.log");
  const logFile = openSync(logPath, "w");
  const address = ["-H", "127.0.0.1", "-p", String(port)];
  // moto_server is a script of the Python environment it was installed in: that environment's python runs it serialized.
  const [command, args] =
    options.serialized === true
      ? [join(dirname(server), "python"), ["-c", SERIALIZED_MAIN, ...address]]
      : [server, address];
  const child = spawn(command, args, {
    stdio: ["ignore", "ignore", logFile],
    env: { ...process.env, PYTHONUNBUFFERED: "1", ...options.env },
  });
  closeSync(logFile);
  running.add(child);
  const stderr = () => {
    try {
      return readFileSync(logPath, "utf8").slice(-STDERR_TAIL_CHARS);
    } catch {
      return "";
    }
  };
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      running.delete(child);
      rmSync(logFolder, { recursive: true, force: true });
      resolve();
    }),
  );
  // ENOENT or EACCES from spawn itself: final, unlike a refused connection while the server is still starting.
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });

  try {
    await waitUntilAnswering(server, endpoint, child, () => spawnError, stderr);
  } catch (error) {
    await stopServer(child, exited);
    throw error;
  }

  return {
    endpoint,
    port,
    stop: () => stopServer(child, exited),
    reset: async () => {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      await response.arrayBuffer();
      if (!response.ok)
        throw new BreakglassError("AWS_FAILED", endpoint, `moto reset answered HTTP ${response.status}`);
    },
  };
}

async function waitUntilAnswering(
  server: string,
  endpoint: string,
  child: ChildProcess,
  spawnError: () => Error | undefined,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  for (;;) {
    const failure = spawnError();
    if (failure) throw new BreakglassError("AWS_UNAVAILABLE", server, `could not be started: ${failure.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new BreakglassError(
        "AWS_UNAVAILABLE",
        endpoint,
        `moto_server exited (${child.exitCode ?? child.signalCode}) before answering on ${endpoint}:\n${stderr().trim()}`,
      );
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet: try again shortly.
    }
    if (Date.now() > deadline) {
      throw new BreakglassError(
        "AWS_UNAVAILABLE",
        endpoint,
        `moto_server did not answer on ${endpoint} within ${STARTUP_DEADLINE_MS / 1000} s; its stderr:\n${stderr().trim()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopServer(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill("SIGTERM");
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), STOP_GRACE_MS).unref()),
  ]);
  if (timedOut) {
    child.kill("SIGKILL");
    await exited;
  }
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string")
    throw new BreakglassError("INTERNAL", "127.0.0.1", "could not read the probed port");
  return address.port;
}
