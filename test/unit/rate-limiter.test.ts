import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../src/events/rate-limiter.js';

describe('rate limiter (token buckets)', () => {
  it('lets a burst through, then refills at the rate, per key', () => {
    let t = 0;
    const limiter = createRateLimiter({ ratePerSecond: 10, burst: 20, now: () => t });
    expect(limiter.take('a', 20)).toBe(0);
    expect(limiter.take('a')).toBe(100); // one token = 100 ms at 10/s
    expect(limiter.take('b', 20)).toBe(0); // its own bucket
    t += 500;
    expect(limiter.take('a', 5)).toBe(0);
    expect(limiter.take('a', 1)).toBe(100);
    t += 10_000;
    expect(limiter.take('a', 20)).toBe(0); // never more than the burst
    expect(limiter.take('a', 1)).toBeGreaterThan(0);
  });

  it('says when a request larger than what is left could pass, and spends nothing when refusing', () => {
    let t = 0;
    const limiter = createRateLimiter({ ratePerSecond: 4, burst: 4, now: () => t });
    expect(limiter.take('k', 3)).toBe(0);
    expect(limiter.take('k', 4)).toBe(750); // 3 more tokens at 4/s
    t += 750;
    expect(limiter.take('k', 4)).toBe(0);
  });
});
