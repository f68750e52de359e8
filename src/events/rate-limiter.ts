/**
 * Token buckets by key (a service token's subject, an IP, a connection): `ratePerSecond` tokens refill per second,
 * up to `burst`. `take(key, n)` spends n tokens or says how long until they would be there. Idle buckets are
 * forgotten, so the map holds only keys seen within the last few refill periods.
 */
export interface RateLimiterOptions {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Most tokens a bucket holds (what a quiet key may spend at once). @default ratePerSecond */
  readonly burst?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface RateLimiter {
  /** 0 when `n` tokens were spent; else the milliseconds until they would be there (nothing is spent). */
  take(key: string, n?: number): number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const PRUNE_EVERY = 1024;

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const rate = options.ratePerSecond;
  const burst = options.burst ?? rate;
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  let takes = 0;

  const refill = (bucket: Bucket, t: number) => {
    bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * rate);
    bucket.at = t;
  };

  return {
    take(key, n = 1) {
      const t = now();
      if (++takes % PRUNE_EVERY === 0) {
        for (const [k, b] of buckets) {
          refill(b, t);
          if (b.tokens >= burst) buckets.delete(k);
        }
      }
      let bucket = buckets.get(key);
      if (!bucket) buckets.set(key, (bucket = { tokens: burst, at: t }));
      else refill(bucket, t);
      if (bucket.tokens >= n) {
        bucket.tokens -= n;
        return 0;
      }
      // More than a full bucket can never be taken at once: say when a full bucket would be there.
      return Math.ceil(((Math.min(n, burst) - bucket.tokens) / rate) * 1000);
    },
  };
}
