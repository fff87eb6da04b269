// deploy/Containerfile really builds and runs: podman builds it from this repository on the base images that
// scripts/prepare-container-builder.sh makes from Debian packages (no image registry needed), then the image serves
// /healthz on its operations port, as a non-root user, with a read-only root file system. Run by
// `npm run test:container` (test/deploy/vitest.config.ts), not by the default `vitest run`: it needs podman.
import { spawn } from "node:child_process";
import { chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";

const repository = fileURLToPath(new URL("../..", import.meta.url));
const runBase = "localhost/breakglass-base:trixie";
const buildBase = "localhost/breakglass-base:trixie-build";
const image = "localhost/breakglass:container-test";
const container = "breakglass-container-test";
// The image's user: the public node image's `node`, which the Containerfile creates on a plain Debian base.
const nodeUid = 1000;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let scratch = "";
let podmanEnv: NodeJS.ProcessEnv = process.env;

function podman(args: string[], env: NodeJS.ProcessEnv = podmanEnv): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn("podman", args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new Error("podman is not installed: run scripts/prepare-container-builder.sh")
          : error,
      ),
    );
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function podmanOk(args: string[]): Promise<string> {
  const result = await podman(args);
  if (result.code !== 0) {
    const tail = `${result.stdout}${result.stderr}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`podman ${args.slice(0, 2).join(" ")} exited ${result.code}:\n${tail}`);
  }
  return result.stdout.trim();
}

/**
 * The settings this sandbox needs, written to a temporary directory rather than /etc: storage of its own there, which
 * sees the base images in the machine's default storage read-only; runc (crun 1.8 refuses a hybrid cgroup v1/v2
 * hierarchy); cgroupfs and file events (no systemd); resource limits no higher than the machine's (podman asks for
 * 1048576 open files by default, which needs CAP_SYS_RESOURCE).
 */
async function writePodmanSettings(): Promise<void> {
  const { CONTAINERS_CONF: _conf, CONTAINERS_STORAGE_CONF: _storage, ...defaults } = process.env;
  const info = await podman(["info", "--format", "{{.Store.GraphDriverName}} {{.Store.GraphRoot}}"], defaults);
  if (info.code !== 0) throw new Error(`podman info failed (run scripts/prepare-container-builder.sh): ${info.stderr}`);
  const [driver, graphRoot] = info.stdout.trim().split(" ") as [string, string];
  writeFileSync(
    join(scratch, "storage.conf"),
    `[storage]\ndriver = "${driver}"\nrunroot = "${join(scratch, "run")}"\ngraphroot = "${join(scratch, "graph")}"\n` +
      `[storage.options]\nadditionalimagestores = ["${graphRoot}"]\n`,
  );
  writeFileSync(
    join(scratch, "containers.conf"),
    '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n' +
      '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n',
  );
  podmanEnv = {
    ...defaults,
    CONTAINERS_CONF: join(scratch, "containers.conf"),
    CONTAINERS_STORAGE_CONF: join(scratch, "storage.conf"),
  };
  for (const base of [runBase, buildBase]) {
    if ((await podman(["image", "exists", base])).code !== 0)
      throw new Error(`the base image ${base} is missing: run scripts/prepare-container-builder.sh first`);
  }
}

/** The volume the image documents (-v /srv/breakglass:/data): the config, the IdP's metadata, the store to come. */
function dataDirectory(): string {
  const data = join(scratch, "data");
  mkdirSync(data);
  copyFileSync(join(repository, "examples/google-workspace-idp-metadata.xml"), join(data, "idp.xml"));
  writeFileSync(
    join(data, "breakglass.yaml"),
    "idp:\n  name: Google\n  metadata: idp.xml\nstore:\n  path: breakglass.db\n",
  );
  chownSync(data, nodeUid, nodeUid);
  return data;
}

async function hostPort(containerPort: number): Promise<number> {
  const mapping = await podmanOk(["port", container, `${containerPort}/tcp`]);
  return Number(mapping.split(":").at(-1));
}

async function get(port: number, path: string): Promise<{ status: number; body: string } | string> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, body: await response.text() };
  } catch (error) {
    return String((error as Error).cause ?? error);
  }
}

describe("the container image from deploy/Containerfile", () => {
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "breakglass-container-"));
    await writePodmanSettings();
    await podmanOk([
      "build",
      "--format",
      "docker",
      "--file",
      join(repository, "deploy/Containerfile"),
      "--build-arg",
      `BUILD_BASE=${buildBase}`,
      "--build-arg",
      `RUN_BASE=${runBase}`,
      "--tag",
      image,
      repository,
    ]);
    await podmanOk([
      "run",
      "--detach",
      "--name",
      container,
      "--read-only",
      "--volume",
      `${dataDirectory()}:/data`,
      "--publish",
      "127.0.0.1::3000",
      "--publish",
      "127.0.0.1::9090",
      image,
    ]);
  });

  afterAll(async () => {
    if (!scratch) return;
    if (podmanEnv !== process.env) {
      await podman(["rm", "--force", "--time", "5", container]);
      const own = await podman(["images", "--all", "--quiet", "--filter", "readonly=false"]);
      const ids = [...new Set(own.stdout.split("\n").filter(Boolean))];
      if (ids.length > 0) await podman(["rmi", "--force", ...ids]);
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  it("declares a non-root user, a healthcheck on /healthz and the two ports", async () => {
    const [inspected] = JSON.parse(await podmanOk(["image", "inspect", image])) as {
      Config: { User: string; ExposedPorts: Record<string, object> };
      Healthcheck?: { Test: string[] };
    }[];
    const config = inspected!.Config;
    expect(config.User).toBe("node");
    expect(Object.keys(config.ExposedPorts).sort()).toEqual(["3000/tcp", "9090/tcp"]);
    expect(inspected!.Healthcheck?.Test.join(" ")).toContain("/healthz");
  });

  it("answers /healthz on the operations port only, and its healthcheck passes", async () => {
    const ops = await hostPort(9090);
    const slack = await hostPort(3000);
    const health = await eventually(
      () => get(ops, "/healthz"),
      (answer) => typeof answer !== "string",
    );
    expect(health).toEqual({ status: 200, body: "ok\n" });
    expect(await get(slack, "/healthz")).toEqual({
      status: 404,
      body: "not found (health and metrics are on the operations port)\n",
    });
    await podmanOk(["healthcheck", "run", container]);
    expect(await podmanOk(["inspect", "--format", "{{.State.Health.Status}}", container])).toBe("healthy");
    const logs = await podman(["logs", container]);
    expect(logs.stdout + logs.stderr).toContain("/healthz, /readyz and /metrics on 0.0.0.0 port 9090 only");
  });

  it("runs as the unprivileged user, on a read-only root, with the store on the volume", async () => {
    expect(await podmanOk(["exec", container, "id", "-u"])).toBe(String(nodeUid));
    const write = await podman(["exec", container, "sh", "-c", "echo x > /probe"]);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toContain("Read-only file system");
    const store = statSync(join(scratch, "data", "breakglass.db"));
    expect(store.uid).toBe(nodeUid);
  });
});
