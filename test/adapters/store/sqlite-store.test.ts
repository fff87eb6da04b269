// The embedded SQLite store: attestations survive reopening, the newest wins, and a bad path is one clear error.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteStore } from "../../../src/adapters/store/sqlite-store.js";

const INSTANCE = "arn:aws:sso:::instance/ssoins-1234567890abcdef";
const directory = () => mkdtempSync(join(tmpdir(), "breakglass-store-"));

describe("the SQLite store", () => {
  it("keeps attestations across reopening and returns the newest for an instance", () => {
    const path = join(directory(), "nested", "breakglass.db");
    const store = SqliteStore.open(path);
    store.recordAttestation({ instanceArn: INSTANCE, fingerprints: ["bb", "aa"], attestedAt: new Date("2026-11-01T00:00:00Z"), attestedBy: "alice", source: "idp.xml" });
    store.recordAttestation({ instanceArn: INSTANCE, fingerprints: ["cc"], attestedAt: new Date("2026-11-20T00:00:00Z"), attestedBy: "bob", source: "https://idp/metadata" });
    store.recordAttestation({ instanceArn: "arn:aws:sso:::instance/ssoins-other", fingerprints: ["dd"], attestedAt: new Date("2026-11-24T00:00:00Z"), attestedBy: "eve", source: "x" });
    store.close();

    const reopened = SqliteStore.open(path);
    expect(reopened.schemaVersion).toBe(6);
    // WAL, with every commit synced to disk (an audit record must survive a power cut), whichever driver runs.
    expect(reopened.connection.pragma("journal_mode")).toBe("wal");
    expect(reopened.connection.pragma("synchronous")).toBe(2);
    const newest = { instanceArn: INSTANCE, fingerprints: ["cc"], attestedAt: new Date("2026-11-20T00:00:00Z"), attestedBy: "bob", source: "https://idp/metadata" };
    expect(reopened.latestAttestation(INSTANCE)).toEqual(newest);
    // What serve hands its check thread: the newest of every instance.
    expect(reopened.latestAttestations()).toEqual([
      newest,
      { instanceArn: "arn:aws:sso:::instance/ssoins-other", fingerprints: ["dd"], attestedAt: new Date("2026-11-24T00:00:00Z"), attestedBy: "eve", source: "x" },
    ]);
    expect(reopened.latestAttestation("arn:aws:sso:::instance/ssoins-none")).toBeNull();
    reopened.close();
  });

  it("names the file when it cannot open it", () => {
    const path = join(directory(), "not-a-db");
    writeFileSync(path, "this is not SQLite, it is a text file that is long enough to have a header".repeat(20));
    expect(() => SqliteStore.open(path)).toThrow(`${path}: cannot open the store: file is not a database`);
  });
});
