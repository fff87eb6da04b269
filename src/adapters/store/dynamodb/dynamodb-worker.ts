// The worker thread that talks to DynamoDB for the synchronous store: one AWS SDK v3 client per table, each request
// answered as a plain result or a plain error description (never a thrown SDK object), which synckit hands back.
import {
  CreateTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { runAsWorker } from "synckit";
import type { DynamoAnswer, DynamoClientSettings, DynamoRequest } from "./dynamodb-protocol.js";

const clients = new Map<string, DynamoDBDocumentClient>();

// The SDK warns once per thread that it will need Node 22 from 2027; in this thread that would print on every command
// that opens the store, whether or not it uses AWS otherwise. The main thread's AWS clients still say it once.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";

function clientFor(settings: DynamoClientSettings): DynamoDBDocumentClient {
  const key = JSON.stringify(settings);
  let client = clients.get(key);
  if (client === undefined) {
    const base = new DynamoDBClient({
      region: settings.region,
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      // Throttling and 5xx answers are retried by the SDK's standard retry strategy, within the request's deadline.
      retryMode: "standard",
      maxAttempts: settings.maxAttempts,
      requestHandler: {
        connectionTimeout: settings.connectTimeoutMs,
        requestTimeout: settings.requestTimeoutMs,
        throwOnRequestTimeout: true,
      },
    });
    client = DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
    clients.set(key, client);
  }
  return client;
}

async function perform(client: DynamoDBDocumentClient, request: DynamoRequest): Promise<unknown> {
  // Each operation's input was built for its command by the caller (dynamodb-table.ts).
  const input = request.input as never;
  switch (request.operation) {
    case "Get":
      return (await client.send(new GetCommand(input))).Item ?? null;
    case "Put":
      return (await client.send(new PutCommand(input))).Attributes ?? null;
    case "Update":
      return (await client.send(new UpdateCommand(input))).Attributes ?? null;
    case "Delete":
      return (await client.send(new DeleteCommand(input))).Attributes ?? null;
    case "QueryAll": {
      // Every page, so that one round trip from the caller's thread answers the whole query.
      const query = request.input as QueryCommandInput;
      const items: unknown[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(new QueryCommand({ ...query, ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start !== undefined && (query.Limit === undefined || items.length < query.Limit));
      return items;
    }
    case "TransactWrite":
      await client.send(new TransactWriteCommand(input));
      return null;
    case "CreateTable":
      return (await client.send(new CreateTableCommand(input))).TableDescription ?? null;
    case "DescribeTable":
      return (await client.send(new DescribeTableCommand(input))).Table ?? null;
    case "UpdateTimeToLive":
      await client.send(new UpdateTimeToLiveCommand(input));
      return null;
    case "DescribeTimeToLive":
      return (await client.send(new DescribeTimeToLiveCommand(input))).TimeToLiveDescription ?? null;
    case "UpdateContinuousBackups":
      await client.send(new UpdateContinuousBackupsCommand(input));
      return null;
    case "DescribeContinuousBackups":
      return (await client.send(new DescribeContinuousBackupsCommand(input))).ContinuousBackupsDescription ?? null;
  }
}

runAsWorker(async (request: DynamoRequest): Promise<DynamoAnswer> => {
  try {
    // Plain data only: an SDK result may hold class instances that do not survive the trip between threads. Binary
    // attributes (an artefact's chunks) stay bytes: a Uint8Array crosses between threads as it is.
    const value = JSON.stringify(await perform(clientFor(request.client), request), keepBytes) ?? "null";
    return { ok: true, value: JSON.parse(value, restoreBytes) as unknown };
  } catch (error) {
    const failure = error as {
      name?: unknown;
      message?: unknown;
      CancellationReasons?: { Code?: string }[];
      $metadata?: { httpStatusCode?: number };
      $response?: { statusCode?: number };
    };
    const status = failure.$metadata?.httpStatusCode ?? failure.$response?.statusCode;
    return {
      ok: false,
      ...(status === undefined ? {} : { status }),
      name: typeof failure.name === "string" ? failure.name : "Error",
      message: typeof failure.message === "string" ? failure.message : String(error),
      reasons: Array.isArray(failure.CancellationReasons)
        ? failure.CancellationReasons.map((reason) => reason.Code ?? "None")
        : [],
    };
  }
});

const BYTES = "$breakglassBytes";

/** JSON.stringify's replacer: a binary attribute as base64 under a marker key (its own toJSON would spell every byte). */
function keepBytes(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Uint8Array ? { [BYTES]: Buffer.from(raw).toString("base64") } : value;
}

/** JSON.parse's reviver: the marker back into bytes. */
function restoreBytes(_key: string, value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const encoded = (value as Record<string, unknown>)[BYTES];
  return typeof encoded === "string" ? new Uint8Array(Buffer.from(encoded, "base64")) : value;
}
