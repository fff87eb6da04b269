// `breakglass serve`: the long-running service, until SIGTERM or SIGINT stops it in order.
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import { BreakglassError } from "../domain/errors.js";
import { DEFAULT_PORT, OPERATIONS_LISTENER_OPTIONS, startService, type RunningService } from "../server/service.js";
import { lineLog } from "../server/service-log.js";
import { DEFAULT_RUNBOOK_DIRECTORY } from "./runbook-command.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";

export interface ServeOptions {
  readonly config?: string;
  readonly port?: string;
  readonly host?: string;
  readonly opsPort?: string;
  readonly opsHost?: string;
  readonly dir?: string;
}

/** Resolves once the service has stopped; `started` lets an embedding caller (tests) reach the running service. */
export async function runServe(
  options: ServeOptions,
  io: CliIo,
  started?: (service: RunningService) => void,
): Promise<number> {
  const configPath = resolveConfigPath(options.config, io.env);
  const { config } = await loadConfig(configPath);
  const port = parsePort(
    options.port ?? io.env["PORT"] ?? String(DEFAULT_PORT),
    options.port === undefined && io.env["PORT"] !== undefined ? "PORT" : "--port",
  );
  const operations = operationsListener(options, io.env, port);
  const log = lineLog(io.stderr, () => io.clock.now());
  const service = await startService({
    config,
    configPath,
    port,
    ...(options.host === undefined ? {} : { host: options.host }),
    ...operations,
    env: io.env,
    clock: io.clock,
    runbookDirectory: options.dir ?? DEFAULT_RUNBOOK_DIRECTORY,
    log,
  });
  started?.(service);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log.info(`${signal} received`);
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      void service.stop().then(resolve, resolve);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  return EXIT.ok;
}

/** The separate listener for health and metrics, when --ops-port or BREAKGLASS_OPS_PORT asks for one. */
function operationsListener(
  options: ServeOptions,
  env: NodeJS.ProcessEnv,
  mainPort: number,
): { operationsPort?: number; operationsHost?: string } {
  const variable = OPERATIONS_LISTENER_OPTIONS.portVariable;
  const given = options.opsPort ?? env[variable];
  if (given === undefined || given === "") {
    if (options.opsHost !== undefined)
      throw new BreakglassError(
        "USAGE",
        OPERATIONS_LISTENER_OPTIONS.host,
        `needs ${OPERATIONS_LISTENER_OPTIONS.port}: without a separate port, health and metrics are answered on --port`,
      );
    return {};
  }
  const source = options.opsPort === undefined ? variable : OPERATIONS_LISTENER_OPTIONS.port;
  const operationsPort = parsePort(given, source);
  const operationsHost = options.opsHost ?? options.host;
  if (operationsPort !== 0 && operationsPort === mainPort && operationsHost === options.host) {
    throw new BreakglassError(
      "USAGE",
      source,
      `${operationsPort} is also the port for Slack's requests (--port or PORT); the two listeners need different ports`,
    );
  }
  return { operationsPort, ...(options.opsHost === undefined ? {} : { operationsHost: options.opsHost }) };
}

function parsePort(text: string, source: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535)
    throw new BreakglassError("USAGE", source, `expected a port number from 0 to 65535, got ${JSON.stringify(text)}`);
  return port;
}
