/**
 * A Redis connection for side duties (cluster membership, webhook presence), not the event bus: commands fail fast
 * instead of queueing while Redis is away (the caller falls back to this instance alone), it reconnects forever
 * with backoff up to 2 s, and its errors are logged at most once per 30 s with the caller's consequence.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';

const ERROR_WINDOW_MS = 30_000;

export interface SideConnection {
  readonly redis: Redis;
  /** Logs `error` with the consequence, unless an error was logged less than 30 s ago. */
  noteError(error: unknown): void;
}

/** @param consequence what an outage means, e.g. "connectionStats shows this instance only" (logged with the error) */
export function openSideConnection(url: string, logger: Pick<Logger, 'warn'>, consequence: string): SideConnection {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (n) => Math.min(2000, 100 * 2 ** n) });
  let lastError = 0;
  const noteError = (error: unknown) => {
    const now = Date.now();
    if (now - lastError < ERROR_WINDOW_MS) return;
    lastError = now;
    logger.warn({ message: (error as Error).message }, consequence);
  };
  redis.on('error', noteError);
  return { redis, noteError };
}
