// A loopback stand-in for CloudTrail's LookupEvents (moto's is not usable), answering as the API reference documents
// it over the AWS JSON 1.1 protocol: events newest first, at most MaxResults per page with a NextToken, EventTime in
// epoch seconds and the record itself as the CloudTrailEvent string; ThrottlingException (HTTP 400) when asked to.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface LookupRequest {
  readonly StartTime?: number;
  readonly EndTime?: number;
  readonly MaxResults?: number;
  readonly NextToken?: string;
}

export interface LookupServer {
  readonly endpoint: string;
  readonly requests: LookupRequest[];
  /** Adds records (parsed CloudTrail records, or raw text standing for a broken one with this id and time). */
  add(...records: readonly ({ eventID: string; eventTime: string } & Record<string, unknown>)[]): void;
  addRaw(eventId: string, eventTime: string, text: string): void;
  /** Answers the next `count` calls with ThrottlingException, as LookupEvents does past 2 calls a second. */
  throttleNext(count: number): void;
  close(): Promise<void>;
}

interface Stored {
  readonly id: string;
  readonly time: number;
  readonly text: string;
  readonly name: string;
  readonly source: string;
}

export async function startLookupServer(): Promise<LookupServer> {
  const events: Stored[] = [];
  const requests: LookupRequest[] = [];
  let throttled = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const target = request.headers["x-amz-target"];
      const answer = (status: number, body: unknown) =>
        response.writeHead(status, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify(body));
      // The SDK sends the target prefix the service model names (CloudTrail_20131101), older ones the long form.
      if (typeof target !== "string" || !/(?:^|\.)CloudTrail_20131101\.LookupEvents$/.test(target))
        return answer(400, { __type: "UnknownOperationException", message: `unexpected target ${String(target)}` });
      const input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as LookupRequest;
      requests.push(input);
      if (throttled > 0) {
        throttled--;
        return answer(400, { __type: "ThrottlingException", message: "Rate exceeded" });
      }
      const matching = events
        .filter(
          (event) =>
            (input.StartTime === undefined || event.time >= input.StartTime * 1000) &&
            (input.EndTime === undefined || event.time <= input.EndTime * 1000),
        )
        .sort((a, b) => b.time - a.time);
      const offset =
        input.NextToken === undefined ? 0 : Number(Buffer.from(input.NextToken, "base64").toString("utf8"));
      const size = input.MaxResults ?? 50;
      const page = matching.slice(offset, offset + size);
      const next = offset + size < matching.length ? Buffer.from(String(offset + size)).toString("base64") : undefined;
      return answer(200, {
        Events: page.map((event) => ({
          EventId: event.id,
          EventName: event.name,
          ReadOnly: "false",
          EventTime: event.time / 1000,
          EventSource: event.source,
          Resources: [],
          CloudTrailEvent: event.text,
        })),
        ...(next === undefined ? {} : { NextToken: next }),
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    add: (...records) => {
      for (const record of records)
        events.push({
          id: record.eventID,
          time: Date.parse(record.eventTime),
          text: JSON.stringify(record),
          name: String(record["eventName"]),
          source: String(record["eventSource"]),
        });
    },
    addRaw: (eventId, eventTime, text) =>
      events.push({ id: eventId, time: Date.parse(eventTime), text, name: "Unknown", source: "unknown" }),
    throttleNext: (count) => void (throttled = count),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
