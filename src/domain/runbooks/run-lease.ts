// Who holds a run's execution lease, and when another process may take it over: at once from a dead process on this
// host, after a grace without renewal from anywhere else.
import { BreakglassError } from "../errors.js";
import type { RunRecord } from "./run-store.js";
import { hostname } from "node:os";

/** Where this engine runs, and how it tells whether a process of this host is still alive (injected by tests). */
export interface LeaseHost {
  readonly hostname: string;
  readonly pid: number;
  isProcessAlive(pid: number): boolean;
}

/** Renews the lease every `everyMilliseconds` until the returned stop is called; injected so tests step it by hand. */
export type Heartbeat = (everyMilliseconds: number, beat: () => void) => () => void;

/** Asked for with `--take-over --reason`: take the lease from a holder on another host that stopped renewing it. */
export interface TakeOverRequest {
  readonly reason: string;
}

/** The engine's lease: one minute, renewed three times a minute while a step runs, so a slow step never loses it. */
export const DEFAULT_LEASE_MILLISECONDS = 60_000;
/** How often a running step renews its lease, as a share of the lease. */
export const HEARTBEATS_PER_LEASE = 3;
/** How many heartbeats a holder on another host may miss before --take-over is allowed. */
export const MISSED_HEARTBEATS_BEFORE_TAKE_OVER = 2;

/** How long after a holder's last renewal --take-over is allowed, with the default lease: 40 s. */
export const DEFAULT_TAKE_OVER_GRACE_MILLISECONDS =
  (MISSED_HEARTBEATS_BEFORE_TAKE_OVER * DEFAULT_LEASE_MILLISECONDS) / HEARTBEATS_PER_LEASE;

export function localLeaseHost(): LeaseHost {
  return { hostname: hostname(), pid: process.pid, isProcessAlive: isLocalProcessAlive };
}

/** A holder name, `<hostname>:<pid>:<suffix>`, unique per engine so a crashed process's lease is never mistaken for ours. */
export function holderName(host: LeaseHost, suffix: string): string {
  return `${host.hostname}:${host.pid}:${suffix}`;
}

/** The host and process of a holder name, or undefined for a name of another form (which is never taken over at once). */
export function holderProcess(holder: string): { readonly hostname: string; readonly pid: number } | undefined {
  const parts = holder.split(":");
  if (parts.length < 3) return undefined;
  const pid = Number(parts[parts.length - 2]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return { hostname: parts.slice(0, -2).join(":"), pid };
}

/** True when the holder is a process of this very host that no longer runs: its lease can be taken over at once. */
export function holderIsDeadHere(holder: string, host: LeaseHost): boolean {
  const process = holderProcess(holder);
  return process !== undefined && process.hostname === host.hostname && !host.isProcessAlive(process.pid);
}

/** When a holder that renewed its lease last at `renewedAt` may be taken over with --take-over. */
export function takeOverAllowedFrom(renewedAt: Date, leaseMilliseconds: number): Date {
  const heartbeat = leaseMilliseconds / HEARTBEATS_PER_LEASE;
  return new Date(renewedAt.getTime() + MISSED_HEARTBEATS_BEFORE_TAKE_OVER * heartbeat);
}

/** The default heartbeat: a timer that does not keep the process alive on its own. */
export const intervalHeartbeat: Heartbeat = (everyMilliseconds, beat) => {
  const timer = setInterval(beat, everyMilliseconds);
  timer.unref();
  return () => clearInterval(timer);
};

/** process.kill(pid, 0) sends nothing: it answers ESRCH when no such process exists (EPERM means it exists, as someone else). */
function isLocalProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * Why a store refused a run's lease or transition, as every store says it: RUN_NOT_FOUND without the run, otherwise
 * RUN_BUSY naming who holds the lease and until when (`prefix` says what the caller was doing).
 */
export function leaseRefusal(run: RunRecord | null, runId: string, prefix = ""): BreakglassError {
  if (run === null) return new BreakglassError("RUN_NOT_FOUND", `run ${runId}`, "no run has this id in the store");
  if (run.leaseHolder === null)
    return new BreakglassError("RUN_BUSY", `run ${run.id}`, `${prefix}no one holds its lease now; advance it again`);
  return new BreakglassError(
    "RUN_BUSY",
    `run ${run.id}`,
    `${prefix}it is being advanced by ${run.leaseHolder}, whose lease expires at ${run.leaseExpiresAt ?? "?"}; try again after that`,
  );
}
