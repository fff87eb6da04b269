// What the store's thread and its DynamoDB worker thread say to each other: plain, structured-clone-safe data.

/** Which DynamoDB endpoint to talk to and how long to wait for it. */
export interface DynamoClientSettings {
  readonly region: string;
  readonly endpoint?: string;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** The SDK's standard retry: throttling and 5xx answers are tried again up to this many attempts in all. */
  readonly maxAttempts: number;
}

export type DynamoOperation =
  | "Get"
  | "Put"
  | "Update"
  | "Delete"
  | "QueryAll"
  | "TransactWrite"
  | "CreateTable"
  | "DescribeTable"
  | "UpdateTimeToLive"
  | "DescribeTimeToLive"
  | "UpdateContinuousBackups"
  | "DescribeContinuousBackups";

export interface DynamoRequest {
  readonly client: DynamoClientSettings;
  readonly operation: DynamoOperation;
  /** The command's input, items in plain JavaScript (lib-dynamodb marshals them). */
  readonly input: unknown;
}

export type DynamoAnswer =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      /** The HTTP status, when an answer came (403 is a denial even when its body could not be read). */
      readonly status?: number;
      /** The SDK's exception name, e.g. ConditionalCheckFailedException. */
      readonly name: string;
      readonly message: string;
      /** A cancelled transaction's reason code per item, in the order of its items ("None" for an item that was fine). */
      readonly reasons: readonly string[];
    };
