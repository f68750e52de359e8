/**
 * The read side of the pre-aggregated analytics every event store keeps. Counters are updated by the
 * store's `append` (SQLite: in the insert's transaction; MongoDB: right after the insert), so reading them
 * costs the same at 1 000 or 10 000 000 events. Domain code depends on this interface only.
 */
import type { ErrorStore } from './error-store.js';

/** What a daily counter counts: every event, or events of one type, source or level. */
export type CounterDimension = 'total' | 'type' | 'source' | 'level';

/** Width of an `eventRate` bucket; counters exist for each (UTC-aligned). */
export type RateBucket = 'minute' | 'hour' | 'day';

export const BUCKET_MS: { readonly [B in RateBucket]: number } = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** One daily counter. `key` is the type, source or level; `*` for `total`. */
export interface DailyCount {
  readonly dimension: CounterDimension;
  readonly key: string;
  readonly count: number;
}

/** Events committed in the bucket starting at `start` (ms since the epoch, UTC-aligned). */
export interface BucketCount {
  readonly start: number;
  readonly count: number;
}

/** Events of one user in one UTC weekday (0 = Sunday) and hour. */
export interface ActivityCell {
  readonly weekday: number;
  readonly hour: number;
  readonly count: number;
}

export interface AnalyticsStore {
  /** Every non-zero daily counter of a UTC day (`YYYY-MM-DD`), in no particular order. */
  dailyCounts(day: string): Promise<DailyCount[]>;
  /** Non-zero buckets with `from <= start < to`, ascending. Zero buckets are the caller's to fill. */
  bucketCounts(bucket: RateBucket, from: number, to: number): Promise<BucketCount[]>;
  /**
   * Non-zero weekday×hour cells of one user's events with `timestamp >= from`, from the time buckets
   * stored on each event (one `$group` with one `$sum` on MongoDB; the `(userId, timestamp)` index).
   */
  userActivity(userId: string, from: number): Promise<ActivityCell[]>;
  /**
   * Deletes minute buckets that start before `before`. Daily and hourly counters are kept (a few dozen
   * small rows per day): summaries of days past the log's retention stay available.
   * @returns how many records went (rows on SQLite, hour documents on MongoDB).
   */
  purgeBefore(before: number): Promise<number>;
}

/** An event store that also keeps the analytics side (counters, `event_errors`) next to its log. */
export interface WithAnalytics {
  readonly analytics: AnalyticsStore;
  readonly errors: ErrorStore;
}
