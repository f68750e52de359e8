/** Retention: events older than the configured number of days are purged from the log. */
import type { EventStore } from './event-store.js';

export interface RetentionOptions {
  /** What to purge: the event log, or anything else with the same method (analytics, errors). */
  readonly store: Pick<EventStore, 'purgeBefore'>;
  readonly days: number;
  /** How often to purge. @default 3600000 (hourly) */
  readonly intervalMs?: number;
  readonly onPurged?: (count: number) => void;
  readonly onError?: (error: unknown) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Purges now and then periodically; returns the function that stops it. */
export function startRetention(options: RetentionOptions): () => void {
  const now = options.now ?? Date.now;
  const run = async () => {
    try {
      const count = await options.store.purgeBefore(now() - options.days * 86_400_000);
      if (count > 0) options.onPurged?.(count);
    } catch (error) {
      options.onError?.(error);
    }
  };
  void run();
  const timer = setInterval(run, options.intervalMs ?? 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}
