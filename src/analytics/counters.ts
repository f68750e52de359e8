/**
 * The counter increments a batch of committed events causes, aggregated per batch so a store applies
 * one upsert per counter (not per event). Pure: both stores share it, so they count identically.
 */
import type { NewEvent } from '../events/model.js';
import { BUCKET_MS, type CounterDimension, type RateBucket } from './analytics-store.js';

export interface DailyIncrement {
  /** UTC day, `YYYY-MM-DD`. */
  readonly day: string;
  readonly dimension: CounterDimension;
  /** Type, source or level; `*` for the total. */
  readonly key: string;
  readonly count: number;
}

export interface BucketIncrement {
  readonly bucket: RateBucket;
  /** Bucket start, ms since the epoch (UTC-aligned). */
  readonly start: number;
  readonly count: number;
}

export interface CounterIncrements {
  readonly daily: DailyIncrement[];
  readonly buckets: BucketIncrement[];
}

export const TOTAL_KEY = '*';

const RATE_BUCKETS = Object.keys(BUCKET_MS) as RateBucket[];
const DIMENSIONS: readonly CounterDimension[] = ['total', 'type', 'source', 'level'];

/** Start of the UTC-aligned bucket holding `timestamp`. */
export const bucketStart = (timestamp: number, bucket: RateBucket): number =>
  timestamp - (((timestamp % BUCKET_MS[bucket]) + BUCKET_MS[bucket]) % BUCKET_MS[bucket]);

/** UTC day of a timestamp, `YYYY-MM-DD`. */
export const utcDay = (timestamp: number): string => new Date(bucketStart(timestamp, 'day')).toISOString().slice(0, 10);

export function counterIncrements(events: readonly Pick<NewEvent, 'type' | 'source' | 'level' | 'timestamp'>[]): CounterIncrements {
  // Per day: dimension -> key -> count. Batches usually span one day, so this stays a handful of small maps.
  const days = new Map<number, Map<CounterDimension, Map<string, number>>>();
  const buckets = RATE_BUCKETS.map((bucket) => ({ bucket, counts: new Map<number, number>() }));
  const bump = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const event of events) {
    const dayStart = bucketStart(event.timestamp, 'day');
    let dims = days.get(dayStart);
    if (!dims) {
      dims = new Map(DIMENSIONS.map((d) => [d, new Map<string, number>()]));
      days.set(dayStart, dims);
    }
    bump(dims.get('total')!, TOTAL_KEY);
    bump(dims.get('type')!, event.type);
    bump(dims.get('source')!, event.source);
    bump(dims.get('level')!, event.level);
    for (const { bucket, counts } of buckets) {
      const start = bucketStart(event.timestamp, bucket);
      counts.set(start, (counts.get(start) ?? 0) + 1);
    }
  }
  const daily: DailyIncrement[] = [];
  for (const [dayStart, dims] of days) {
    const day = utcDay(dayStart);
    for (const [dimension, counts] of dims) for (const [key, count] of counts) daily.push({ day, dimension, key, count });
  }
  return {
    daily,
    buckets: buckets.flatMap(({ bucket, counts }) => [...counts].map(([start, count]) => ({ bucket, start, count }))),
  };
}
