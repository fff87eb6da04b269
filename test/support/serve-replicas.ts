// Several real `breakglass serve` processes (the compiled bin, as installed) on one store (a SQLite file, or a DynamoDB
// table on the moto emulator) and one Slack stand-in:
// the leadership tests and the failover bench start, pause, resume and kill them and ask each its role on /readyz.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFailed } from "vitest";
import { DAY, makeCertificate } from "./certificates.js";
import { entityXml } from "./metadata-builder.js";
import { CHANNELS } from "./serve-harness.js";
import { STUB_BOT_TOKEN, type SlackApiStub } from "./slack-api-stub.js";
import { TEST_SIGNING_SECRET } from "./slack-requests.js";

const BIN = new URL("../../bin/breakglass.js", import.meta.url).pathname;

export interface ReplicaStatus {
  readonly role: "leader" | "follower";
  readonly holder: string;
  readonly leader: string | null;
  readonly token: number | null;
  readonly leaseAgeSeconds: number | null;
}

export interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr (its log), so far. */
  log(): string;
  port(): number | undefined;
  /**
   * Its leadership as /readyz tells it; undefined while it cannot answer (paused, killed, not listening yet). Rejects
   * with its log when the process ended on its own (not by kill()): it will never answer, and a wait should not go on.
   */
  status(): Promise<ReplicaStatus | undefined>;
  readonly exited: Promise<number | null>;
  pause(): void;
  resume(): void;
  kill(): void;
}

/** The store the replicas share: a SQLite file in their folder (the default), or a DynamoDB table already made. */
export type ReplicaStore =
  | { readonly kind: "sqlite" }
  | { readonly kind: "dynamodb"; readonly table: string; readonly region: string; readonly endpoint: string };

/** The `store:` section of a replica config for `store`, its SQLite file in `directory`. */
export function replicaStoreYaml(store: ReplicaStore, directory: string): string {
  if (store.kind === "sqlite") return `store:\n  path: ${join(directory, "breakglass.db")}`;
  return `store:\n  kind: dynamodb\n  table: ${store.table}\n  region: ${store.region}\n  endpoint: ${store.endpoint}`;
}

/** A folder with an IdP metadata file whose signing certificate expires in 20 days, and a breakglass.yaml for replicas. */
export function replicaDirectory(ttlSeconds: number, extraYaml = "", store: ReplicaStore = { kind: "sqlite" }): string {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-replicas-"));
  const certificate = makeCertificate({
    commonName: "Okta signing",
    notBefore: new Date(Date.now() - 300 * DAY),
    notAfter: new Date(Date.now() + 20 * DAY + 3_600_000),
  });
  writeFileSync(join(directory, "idp.xml"), entityXml({ keys: [{ base64: certificate.base64, use: "signing" }] }));
  writeFileSync(
    join(directory, "breakglass.yaml"),
    `idp:
  name: Okta
  metadata: ${join(directory, "idp.xml")}
${replicaStoreYaml(store, directory)}
serve:
  leadership:
    ttlSeconds: ${ttlSeconds}
slack:
  channels:
    alerts: ${CHANNELS.alerts}
    incidents: ${CHANNELS.incidents}
    security: ${CHANNELS.security}
${extraYaml}`,
  );
  return directory;
}

export interface ReplicaOptions {
  /** A folder of runbooks (serve --dir). */
  readonly runbooks?: string;
  /** More environment, e.g. the emulator's endpoint and test credentials for a DynamoDB store or AWS actions. */
  readonly env?: Readonly<Record<string, string>>;
}

export function startReplica(
  name: string,
  directory: string,
  stub: SlackApiStub,
  options: ReplicaOptions = {},
): Replica {
  const { runbooks, env = {} } = options;
  const child = spawn(
    process.execPath,
    [
      BIN,
      "serve",
      "--config",
      join(directory, "breakglass.yaml"),
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      ...(runbooks ? ["--dir", runbooks] : []),
    ],
    {
      env: {
        PATH: process.env["PATH"],
        HOME: directory,
        SLACK_BOT_TOKEN: STUB_BOT_TOKEN,
        SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
        SLACK_API_URL: stub.apiUrl,
        ...env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  let killed = false;
  let ended: string | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code, signal) => {
      if (!killed) ended = signal === null ? `exited with code ${code}` : `ended by ${signal}`;
      resolve(code);
    }),
  );
  try {
    // What the replica logged says where a failed test stopped (afterEach has let go of it by then).
    onTestFailed(() =>
      console.error(`replica ${name} (pid ${child.pid}; ${ended ?? "killed by the test, or running"}):\n${stderr}`),
    );
  } catch {
    // Started outside a test (the failover bench): there is no test to report on.
  }
  const port = () => {
    const found = /listening on \S+ port (\d+)/.exec(stderr)?.[1];
    return found === undefined ? undefined : Number(found);
  };
  return {
    name,
    child,
    log: () => stderr,
    port,
    exited,
    async status() {
      if (ended !== undefined) throw new Error(`replica ${name} ${ended} on its own; its log:\n${stderr}`);
      const listening = port();
      if (listening === undefined || child.exitCode !== null || child.signalCode !== null) return undefined;
      try {
        // A fresh connection each time (a pooled one may be stuck on a paused process); a paused one never answers, so
        // the wait is cut short: the caller asks again.
        const response = await fetch(`http://127.0.0.1:${listening}/readyz`, {
          headers: { connection: "close" },
          signal: AbortSignal.timeout(2_000),
        });
        const body = (await response.json()) as { leadership?: ReplicaStatus };
        return body.leadership;
      } catch {
        return undefined;
      }
    },
    pause: () => child.kill("SIGSTOP"),
    resume: () => child.kill("SIGCONT"),
    kill: () => {
      killed = true;
      child.kill("SIGKILL");
    },
  };
}

/** Every "<holder> elected leader (token N" line of the replicas' logs, in no particular order. */
export function elections(replicas: readonly Replica[]): { replica: string; holder: string; token: number }[] {
  return replicas.flatMap((replica) =>
    [...replica.log().matchAll(/(\S+) elected leader \(token (\d+)/g)].map((match) => ({
      replica: replica.name,
      holder: match[1] as string,
      token: Number(match[2]),
    })),
  );
}
