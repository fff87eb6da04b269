// Dropping an HTTP response body we will not read, the way undici needs it: its abort arrives as an error event.

export interface ReadableBody extends AsyncIterable<Buffer> {
  destroy(): void;
  on(event: "error", listener: () => void): unknown;
}

/** Destroys the body; the error event undici then emits is expected, so it is swallowed rather than left unhandled. */
export function discard(body: ReadableBody): void {
  body.on("error", () => undefined);
  body.destroy();
}
