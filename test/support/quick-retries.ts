// The SDK's own adaptive retry strategy (classification, retry quota, client-side rate limiter) with test-sized delays.
import { AdaptiveRetryStrategy, DefaultRateLimiter } from "@smithy/core/retry";

/**
 * The SDK's throttling backoff starts at 1 s and its rate limiter can fall to 0.5 requests/s; a fiftieth of
 * each delay keeps their ratio while a test of dozens of faults stays within seconds.
 */
export function quickAdaptiveRetries(maxAttempts = 10): AdaptiveRetryStrategy {
  let delayBase = 0;
  const backoff = {
    setDelayBase: (base: number) => {
      delayBase = base / 50;
    },
    computeNextBackoffDelay: (retries: number) => Math.floor(Math.random() * Math.min(delayBase * 2 ** retries, 200)),
  };
  return new AdaptiveRetryStrategy(maxAttempts, {
    maxAttempts,
    backoff,
    rateLimiter: new DefaultRateLimiter({ minFillRate: 200, minCapacity: 10 }),
  });
}
