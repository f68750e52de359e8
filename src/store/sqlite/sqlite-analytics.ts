/**
 * Analytics on SQLite: daily counters (`event_analytics`) and rate buckets (`event_analytics_buckets`),
 * incremented by `apply` inside the event insert's transaction, so the counters and the log never disagree.
 */
import type Database from 'better-sqlite3';
import type { ActivityCell, AnalyticsStore, BucketCount, DailyCount, RateBucket } from '../../analytics/analytics-store.js';
import { counterIncrements } from '../../analytics/counters.js';
import type { NewEvent } from '../../events/model.js';
import { guarded } from './guard.js';

export const ANALYTICS_MIGRATION = `
CREATE TABLE IF NOT EXISTS event_analytics (
  day TEXT NOT NULL,
  dimension TEXT NOT NULL,
  key TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (day, dimension, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_analytics_buckets (
  bucket TEXT NOT NULL,
  start INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (bucket, start)
) WITHOUT ROWID;
`;

export interface SqliteCounters {
  /** Adds committed events to the counters. Call inside the transaction that inserted them. */
  apply(events: readonly NewEvent[]): void;
}

export function createSqliteCounters(db: Database.Database): SqliteCounters {
  db.exec(ANALYTICS_MIGRATION);
  const daily = db.prepare(
    `INSERT INTO event_analytics (day, dimension, key, count) VALUES (?, ?, ?, ?)
     ON CONFLICT (day, dimension, key) DO UPDATE SET count = count + excluded.count`,
  );
  const bucket = db.prepare(
    `INSERT INTO event_analytics_buckets (bucket, start, count) VALUES (?, ?, ?)
     ON CONFLICT (bucket, start) DO UPDATE SET count = count + excluded.count`,
  );
  return {
    apply(events) {
      if (events.length === 0) return;
      const increments = counterIncrements(events);
      for (const c of increments.daily) daily.run(c.day, c.dimension, c.key, c.count);
      for (const c of increments.buckets) bucket.run(c.bucket, c.start, c.count);
    },
  };
}

export function createSqliteAnalyticsStore(db: Database.Database): AnalyticsStore {
  db.exec(ANALYTICS_MIGRATION);
  const daily = db.prepare<[string], DailyCount>('SELECT dimension, key, count FROM event_analytics WHERE day = ?');
  const buckets = db.prepare<[RateBucket, number, number], BucketCount>(
    'SELECT start, count FROM event_analytics_buckets WHERE bucket = ? AND start >= ? AND start < ? ORDER BY start',
  );
  const activity = db.prepare<[string, number], ActivityCell>(
    'SELECT weekday, hour, count(*) AS count FROM events WHERE user_id = ? AND ts >= ? GROUP BY weekday, hour',
  );
  const purge = db.prepare(`DELETE FROM event_analytics_buckets WHERE bucket = 'minute' AND start < ?`);
  return {
    dailyCounts: (day) => guarded('analytics: daily counts', () => daily.all(day)),
    bucketCounts: (bucket, from, to) => guarded('analytics: bucket counts', () => buckets.all(bucket, from, to)),
    userActivity: (userId, from) => guarded('analytics: user activity', () => activity.all(userId, from)),
    purgeBefore: (before) => guarded('analytics: purge', () => purge.run(before).changes),
  };
}
