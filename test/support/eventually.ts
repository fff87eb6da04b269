// Polls until something the code under test does after answering (in the background) has happened.
import { onTestFailed, onTestFinished } from "vitest";

/**
 * Resolves with the probed value once `predicate` holds. No deadline of its own: how long the background work takes
 * depends on how busy the machine is, so only vitest's timeout for the test ends the wait; the test then fails with
 * the last value probed printed, to say what was still awaited.
 */
export async function eventually<T>(probe: () => T | Promise<T>, predicate: (value: T) => boolean): Promise<T> {
  let waiting = true;
  let testEnded = false;
  let last: T | undefined;
  try {
    onTestFailed(() => {
      if (waiting)
        console.error(
          `eventually: still waiting when the test failed; last value: ${JSON.stringify(last)?.slice(0, 2000)}`,
        );
    });
    onTestFinished(() => void (testEnded = true));
  } catch {
    // Called from a hook rather than a test: there is no test to report on, and the hook's own timeout ends the wait.
  }
  for (;;) {
    last = await probe();
    if (predicate(last)) {
      waiting = false;
      return last;
    }
    // A test that timed out leaves this loop behind: stop polling what the test has since torn down.
    if (testEnded)
      throw new Error(
        `eventually: the test ended while still waiting; last value: ${JSON.stringify(last)?.slice(0, 2000)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
