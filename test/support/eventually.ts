// Polls until something the code under test does after answering (in the background) has happened.

/** Resolves with the probed value once `predicate` holds; fails after `timeoutMs` showing the last value. */
export async function eventually<T>(probe: () => T | Promise<T>, predicate: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (predicate(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms; last value: ${JSON.stringify(value)?.slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
