// A run's artefacts on a host that did not produce them: read from the store into this host's folder, digest checked,
// and refused (before any step uses them) when the store has no content for them.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/adapters/store/open-store.js";
import { SharedArtefacts } from "../../src/application/shared-artefacts.js";
import type { BreakglassStore } from "../../src/domain/ports/store.js";

const folders: string[] = [];
const stores: BreakglassStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** Two hosts' artefact folders on one SQLite store (the store shared as DynamoDB would be). */
function twoHosts() {
  const root = mkdtempSync(join(tmpdir(), "breakglass-shared-artefacts-"));
  folders.push(root);
  const store = openStore({ path: join(root, "breakglass.db") });
  stores.push(store);
  const host = (name: string) =>
    new SharedArtefacts({
      store: () => store.artefacts,
      directory: join(root, name, "artefacts"),
      storeDescription: join(root, "breakglass.db"),
    });
  return { root, store, alice: host("alice"), bob: host("bob") };
}

describe("a run's artefacts on another host", () => {
  it("are written from the store into this host's folder, readable by its owner only, and again when changed here", () => {
    const { root, alice, bob } = twoHosts();
    const produced = join(root, "alice", "artefacts", "run-1", "fetch-metadata-idp-metadata.xml");
    mkdirSync(join(root, "alice", "artefacts", "run-1"), { recursive: true });
    writeFileSync(produced, "<EntityDescriptor entityID='inspected'/>");
    alice.keep("run-1", { "metadata-file": produced });

    const local = bob.materialise("run-1", { "metadata-file": produced })["metadata-file"] as string;
    expect(local).toBe(join(root, "bob", "artefacts", "run-1", "fetch-metadata-idp-metadata.xml"));
    expect(readFileSync(local, "utf8")).toBe("<EntityDescriptor entityID='inspected'/>");
    expect(statSync(local).mode & 0o777).toBe(0o600);

    // A local edit is not what was inspected: the store's bytes are put back.
    writeFileSync(local, "<EntityDescriptor entityID='edited'/>");
    bob.materialise("run-1", { "metadata-file": produced });
    expect(readFileSync(local, "utf8")).toBe("<EntityDescriptor entityID='inspected'/>");
    // The producer keeps using its own file.
    expect(alice.materialise("run-1", { "metadata-file": produced })).toEqual({ "metadata-file": produced });
  });

  it("are refused, naming the run, the artefact and the store, when the store keeps no content for them", () => {
    const { root, bob } = twoHosts();
    expect(() => bob.materialise("run-2", { "activity-summary": "/elsewhere/INC-1-activity.md" })).toThrow(
      `artefact activity-summary of run run-2: ${join(root, "breakglass.db")} keeps no content for it ` +
        "(produced as /elsewhere/INC-1-activity.md); nothing is applied",
    );
  });

  it("are kept in the store from the producer's own file when a run in flight predates shared artefacts", () => {
    const { root, alice, bob } = twoHosts();
    const produced = join(root, "alice", "artefacts", "run-3", "fetch-metadata-idp-metadata.xml");
    mkdirSync(join(root, "alice", "artefacts", "run-3"), { recursive: true });
    writeFileSync(produced, "<EntityDescriptor entityID='before-upgrade'/>");
    // Bob's host, which never had the file, cannot use it yet.
    expect(() => bob.materialise("run-3", { "metadata-file": produced })).toThrow("keeps no content for it");

    expect(alice.materialise("run-3", { "metadata-file": produced })).toEqual({ "metadata-file": produced });
    const local = bob.materialise("run-3", { "metadata-file": produced })["metadata-file"] as string;
    expect(readFileSync(local, "utf8")).toBe("<EntityDescriptor entityID='before-upgrade'/>");
  });
});

describe("a document a step saved before replacing it, read by a rollback", () => {
  /** Where alice's host saved what provider EmergencyIdP held before step import of run run-7. */
  const savedOnAlice = (root: string) =>
    join(root, "alice", "artefacts", "run-7", "import-previous-EmergencyIdP-0a1b2c3d.xml");

  function aliceSaves(root: string, alice: SharedArtefacts, document: string): string {
    const saved = savedOnAlice(root);
    mkdirSync(join(root, "alice", "artefacts", "run-7"), { recursive: true });
    writeFileSync(saved, document);
    alice.savedDocuments().keep(saved);
    return saved;
  }

  it("is the saved file itself on the host that saved it", () => {
    const { root, alice } = twoHosts();
    const saved = aliceSaves(root, alice, "<EntityDescriptor entityID='before'/>");
    expect(alice.savedDocuments().resolve(saved)).toBe(saved);
  });

  it("is written from the store into another host's folder, readable by its owner only, when that host lacks it", () => {
    const { root, alice, bob } = twoHosts();
    const saved = aliceSaves(root, alice, "<EntityDescriptor entityID='before'/>");
    rmSync(join(root, "alice"), { recursive: true });

    const local = bob.savedDocuments().resolve(saved);
    expect(local).toBe(join(root, "bob", "artefacts", "run-7", "import-previous-EmergencyIdP-0a1b2c3d.xml"));
    expect(readFileSync(local, "utf8")).toBe("<EntityDescriptor entityID='before'/>");
    expect(statSync(local).mode & 0o777).toBe(0o600);
    // A copy changed on bob's host is not what the provider held: the store's bytes are put back.
    writeFileSync(local, "<EntityDescriptor entityID='edited'/>");
    expect(readFileSync(bob.savedDocuments().resolve(saved), "utf8")).toBe("<EntityDescriptor entityID='before'/>");
  });

  it("keeps the first copy saved: a retry after a crash does not replace it with the document imported since", () => {
    const { root, alice, bob } = twoHosts();
    const saved = aliceSaves(root, alice, "<EntityDescriptor entityID='before'/>");
    writeFileSync(saved, "<EntityDescriptor entityID='imported'/>");
    alice.savedDocuments().keep(saved);
    expect(readFileSync(bob.savedDocuments().resolve(saved), "utf8")).toBe("<EntityDescriptor entityID='before'/>");
  });

  it("is refused, naming the document, the run and the store, when the store keeps nothing and the host has no such file", () => {
    const { root, bob } = twoHosts();
    const saved = savedOnAlice(root);
    expect(() => bob.savedDocuments().resolve(saved)).toThrow(
      `saved document ${saved} of run run-7: ${join(root, "breakglass.db")} keeps no content for it ` +
        `(saved as ${saved}); nothing is applied`,
    );
    expect(existsSync(join(root, "bob", "artefacts", "run-7"))).toBe(false);
  });
});
