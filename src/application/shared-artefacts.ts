// A run's artefacts shared through the store: the content of every artefact a step produces is kept in the store when
// it is produced, and a step that needs one on another host (bob's laptop, another serve replica) reads it from there
// into this host's artefact folder, digest checked. The local file is only a cache of the store's bytes. So are the
// documents a step saves before replacing them (a provider's previous metadata), which a rollback on any host puts back.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { BreakglassError } from "../domain/errors.js";
import {
  savedDocumentKey,
  type ArtefactContentStore,
  type ContentName,
  type SavedDocuments,
} from "../domain/ports/artefact-store.js";
import type { ActionExecutor, ArtefactPaths, RunContext, StepExecutors } from "../domain/runbooks/engine-ports.js";
import type { Artefact } from "../domain/runbooks/runbook-schema.js";

export interface SharedArtefactSettings {
  /** Where contents are kept; a getter, so that serve's leader writes through its fenced view of the term now. */
  readonly store: () => ArtefactContentStore;
  /** This host's artefact folder: where a content read from the store is written for a step to use. */
  readonly directory: string;
  /** What errors name the store by (describeStore). */
  readonly storeDescription: string;
}

export class SharedArtefacts {
  constructor(private readonly settings: SharedArtefactSettings) {}

  /** Keeps the content of each artefact file a step produced in the store, before the engine records its path. */
  keep(runId: string, artefacts: ArtefactPaths | undefined): void {
    for (const [name, path] of Object.entries(artefacts ?? {}) as [Artefact, string][])
      this.keepContent(runId, name, path, `artefact ${name} of run ${runId}`);
  }

  /**
   * The run's artefacts as files on this host holding exactly the store's bytes: a file missing here, or whose digest
   * is not the store's, is written from the store (mode 0600) into this host's artefact folder. Content the store does
   * not have, or that fails its digest, is refused (ARTEFACT_INTEGRITY): the step does not run, nothing is applied.
   * The one exception is a file this host produced before its store kept contents: it is kept in the store then.
   */
  materialise(runId: string, artefacts: ArtefactPaths): ArtefactPaths {
    const local: Partial<Record<Artefact, string>> = {};
    for (const [name, path] of Object.entries(artefacts) as [Artefact, string][])
      local[name] = this.fromStore(runId, name, path, `artefact ${name} of run ${runId}`, "produced");
    return local;
  }

  /** The documents steps save before replacing them (SavedDocuments), kept and read through the same store. */
  savedDocuments(): SavedDocuments {
    return {
      keep: (path) => {
        const { runId, name } = savedDocumentKey(path);
        // The first copy is the one from before: a retry after a crash may find the provider already changed.
        if (this.settings.store().artefactContent(runId, name) !== null) return;
        this.keepContent(runId, name, path, `saved document ${path} of run ${runId}`);
      },
      resolve: (path) => {
        const { runId, name } = savedDocumentKey(path);
        return this.fromStore(runId, name, path, `saved document ${path} of run ${runId}`, "saved");
      },
    };
  }

  /**
   * A file on this host holding the store's content `name` of the run, recorded as `path` on whichever host made it:
   * that path when it is in this host's folder, else the same file name under `<folder>/<run>/`.
   */
  private fromStore(runId: string, name: ContentName, path: string, what: string, made: string): string {
    let stored = this.settings.store().artefactContent(runId, name);
    // A run in flight across the upgrade that brought shared artefacts: its producer kept only the file. On that
    // host the file is what the step made, so it is kept in the store now; another host has nothing to read.
    if (stored === null && isInside(this.settings.directory, path) && existsSync(path)) {
      this.keepContent(runId, name, path, what);
      stored = this.settings.store().artefactContent(runId, name);
    }
    if (stored === null) {
      throw new BreakglassError(
        "ARTEFACT_INTEGRITY",
        what,
        `${this.settings.storeDescription} keeps no content for it (${made} as ${path}); nothing is applied`,
      );
    }
    // The producer's own path when it is in this host's artefact folder; another host's path is never read.
    const target = isInside(this.settings.directory, path)
      ? path
      : join(this.settings.directory, runId, basename(path));
    if (digestOfFile(target) === stored.sha256) return target;
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    writeFileSync(target, stored.content, { mode: 0o600 });
    if (digestOfFile(target) !== stored.sha256) {
      throw new BreakglassError(
        "ARTEFACT_INTEGRITY",
        what,
        `${target} does not hold the content read from ${this.settings.storeDescription} after writing it; nothing is applied`,
      );
    }
    return target;
  }

  private keepContent(runId: string, name: ContentName, path: string, what: string): void {
    let content: Buffer;
    try {
      content = readFileSync(path);
    } catch (error) {
      throw new BreakglassError("ACTION_FAILED", what, `cannot read ${path}`, { cause: error });
    }
    this.settings.store().putArtefact(runId, name, content);
  }

  /** The step executors with every artefact a step produces kept in the store, and every one it reads materialised. */
  around(executors: StepExecutors): StepExecutors {
    // One step's preflight, plan, apply and verify share its context's artefacts object: read from the store once.
    const materialised = new WeakMap<ArtefactPaths, ArtefactPaths>();
    const withLocal = (context: RunContext): RunContext => {
      let artefacts = materialised.get(context.artefacts);
      if (artefacts === undefined) {
        artefacts = this.materialise(context.runId, context.artefacts);
        materialised.set(context.artefacts, artefacts);
      }
      return { ...context, artefacts };
    };
    const action = (executor: ActionExecutor): ActionExecutor => ({
      ...(executor.preflight
        ? { preflight: (parameters, context) => executor.preflight!(parameters, withLocal(context)) }
        : {}),
      plan: (parameters, context) => executor.plan(parameters, withLocal(context)),
      apply: async (plan, parameters, context) => {
        const result = await executor.apply(plan, parameters, withLocal(context));
        this.keep(context.runId, result.artefacts);
        return result;
      },
      verify: async (parameters, context) => {
        const verification = await executor.verify(parameters, withLocal(context));
        this.keep(context.runId, verification.artefacts);
        return verification;
      },
    });
    return {
      ...executors,
      check: async (checks, context) => {
        const result = await executors.check(checks, withLocal(context));
        this.keep(context.runId, result.artefacts);
        return result;
      },
      actions: Object.fromEntries(
        Object.entries(executors.actions).map(([name, executor]) => [name, action(executor)]),
      ) as StepExecutors["actions"],
    };
  }
}

function isInside(directory: string, path: string): boolean {
  const inner = relative(resolve(directory), resolve(path));
  return inner !== "" && !inner.startsWith("..") && !isAbsolute(inner);
}

function digestOfFile(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
  } catch {
    // Unreadable here: written again from the store.
    return undefined;
  }
}
