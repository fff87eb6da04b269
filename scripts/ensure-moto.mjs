// Makes sure .venv holds moto's standalone server at the version test/requirements-moto.txt pins, installing only when needed.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const venv = `${root}.venv`;
const requirementsPath = "test/requirements-moto.txt";
const motoServer = `${venv}/bin/moto_server`;
// The marker holds the hash of the requirements it was made from, so editing the pin triggers a reinstall.
const marker = `${venv}/.breakglass-moto-installed`;

function fail(message) {
  console.error(`ensure-moto: ${message}`);
  process.exit(1);
}

/** Runs a command in the repo root, failing with its last stderr line rather than a wall of pip output. */
function run(command, args, what) {
  const result = spawnSync(command, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
  if (result.error)
    fail(
      result.error.code === "ENOENT"
        ? `${what} failed: ${command} is not on PATH`
        : `${what} failed: ${result.error.message}`,
    );
  if (result.status !== 0) {
    const lastLine = (result.stderr ?? "").trim().split("\n").filter(Boolean).at(-1) ?? `exit code ${result.status}`;
    fail(`${what} failed: ${lastLine}`);
  }
}

let requirements;
try {
  requirements = readFileSync(`${root}${requirementsPath}`);
} catch (error) {
  fail(`cannot read ${requirementsPath}: ${error.message}`);
}
const wanted = createHash("sha256").update(requirements).digest("hex");
const installed = existsSync(marker) ? readFileSync(marker, "utf8").trim() : "";

if (existsSync(motoServer) && installed === wanted) {
  console.log("ensure-moto: moto_server already installed in .venv");
  process.exit(0);
}

const created = !existsSync(`${venv}/bin/pip`);
if (created) run("python3", ["-m", "venv", ".venv"], "python3 -m venv .venv");
// Drop the marker first: an install that dies half-way must not look finished next time.
rmSync(marker, { force: true });
run(
  `${venv}/bin/pip`,
  ["install", "--disable-pip-version-check", "-q", "-r", requirementsPath],
  `pip install -r ${requirementsPath}`,
);
if (!existsSync(motoServer)) fail(`pip finished but ${motoServer} is missing`);
writeFileSync(marker, `${wanted}\n`);
console.log(
  `ensure-moto: ${created ? "created .venv and installed" : "reinstalled"} moto_server from ${requirementsPath}`,
);
