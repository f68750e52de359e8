/**
 * The analytics admins query (GraphQL, admins only; authorization is the caller's): summaries from counters,
 * rates, heatmaps, critical events, user timelines and error summaries. Arguments are checked here and fail
 * with BAD_USER_INPUT naming the argument; statistics are computed in TypeScript so every store answers alike.
 */
import type { EventStore } from '../events/event-store.js';
import type { HeraldEvent } from '../events/model.js';
import type { AnalyticsStore, RateBucket } from './analytics-store.js';
import { ERROR_KINDS, type ErrorKind, type ErrorStore, type RecordedError } from './error-store.js';
import { createErrorRecorder, type ErrorReport } from './error-recorder.js';
import { toRateSeries, bucketRange, type RateSeries } from './event-rate.js';
import { toHeatmap, type ActivityHeatmap } from './heatmap.js';
import { toDaySummary, type DaySummary } from './summary.js';
import { checkRange, intInRange, parseDay, requireId } from './inputs.js';

/** Longest look-back of `criticalEvents` and `errorSummary`: 90 days. */
export const MAX_HOURS = 24 * 90;
/** Longest look-back of `userActivityHeatmap`. */
export const MAX_DAYS = 366;
/** Largest page of events. */
export const MAX_PAGE = 500;
/** Most recent errors `errorSummary` lists at most. */
export const MAX_LATEST_ERRORS = 100;

export interface AnalyticsOptions {
  readonly events: EventStore;
  readonly analytics: AnalyticsStore;
  readonly errors: ErrorStore;
  /** Told when recording an error failed or a backlog was dropped. @default ignore */
  readonly onRecordFailure?: (error: unknown, dropped: number) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A keyset page: `first` events after `afterSeq` in `order`. */
export interface PageRequest {
  readonly first: number;
  readonly afterSeq?: number;
  /** @default 'DESC' for criticalEvents, 'ASC' for timeline */
  readonly order?: 'ASC' | 'DESC';
}

export interface EventSlice {
  readonly events: HeraldEvent[];
  readonly hasNextPage: boolean;
}

export interface ErrorSummary {
  readonly since: number;
  readonly total: number;
  /** Every kind, zeros included. */
  readonly byKind: { kind: ErrorKind; count: number }[];
  /** Sources with errors, most first (null = unknown source). */
  readonly bySource: { source: string | null; count: number }[];
  readonly latest: RecordedError[];
}

export interface Analytics {
  /** Totals of one UTC day (`YYYY-MM-DD`) from the counters. */
  summary(date: string): Promise<DaySummary>;
  /** CRITICAL events of the last `hours`, newest first by default. */
  criticalEvents(hours: number, page: PageRequest): Promise<EventSlice>;
  /** One user's events in `[from, to)`, oldest first by default. */
  timeline(userId: string, range: { from?: number; to?: number }, page: PageRequest): Promise<EventSlice>;
  /** Errors of the last `hours` by kind and source, with the `latest` newest. */
  errorSummary(hours: number, latest: number): Promise<ErrorSummary>;
  /** One user's events of the last `days` as a 7×24 UTC weekday×hour matrix. */
  userActivityHeatmap(userId: string, days: number): Promise<ActivityHeatmap>;
  /** Events per bucket over `[from, to)`, zero buckets included; at most MAX_BUCKETS points. */
  eventRate(from: number, to: number, bucket: RateBucket): Promise<RateSeries>;
  /**
   * Records a failure in `event_errors` (webhook deliveries, processing errors, publish rejections).
   * Fire and forget: synchronous, never throws; writes are batched per event-loop turn.
   * @example analytics.recordError({ kind: 'delivery', source: 'webhooks', message: 'HTTP 503', endpointId, eventId })
   */
  recordError(report: ErrorReport): void;
  /** Resolves once recorded errors are written. */
  flushErrors(): Promise<void>;
  /** Retention of the analytics side: errors and minute buckets older than `before`. */
  purgeBefore(before: number): Promise<number>;
}

const HOUR = 3_600_000;

async function slice(rows: Promise<HeraldEvent[]>, first: number): Promise<EventSlice> {
  const events = await rows;
  return { events: events.slice(0, first), hasNextPage: events.length > first };
}

export function createAnalytics(options: AnalyticsOptions): Analytics {
  const { events, analytics, errors } = options;
  const now = options.now ?? Date.now;
  const recorder = createErrorRecorder({ store: errors, onFailure: options.onRecordFailure, now });
  const pageSize = (page: PageRequest) => intInRange(page.first, 1, MAX_PAGE, 'first');

  return {
    async summary(date) {
      parseDay(date, 'date');
      return toDaySummary(date, await analytics.dailyCounts(date));
    },

    criticalEvents(hours, page) {
      intInRange(hours, 1, MAX_HOURS, 'hours');
      const first = pageSize(page);
      const filter = { levels: ['CRITICAL' as const], from: now() - hours * HOUR };
      return slice(events.list({ filter, afterSeq: page.afterSeq, order: page.order ?? 'DESC', limit: first + 1 }), first);
    },

    timeline(userId, { from, to }, page) {
      requireId(userId, 'userId');
      checkRange(from, to);
      const first = pageSize(page);
      return slice(events.list({ filter: { userId, from, to }, afterSeq: page.afterSeq, order: page.order ?? 'ASC', limit: first + 1 }), first);
    },

    async errorSummary(hours, latest) {
      intInRange(hours, 1, MAX_HOURS, 'hours');
      intInRange(latest, 0, MAX_LATEST_ERRORS, 'latest');
      const since = now() - hours * HOUR;
      const [kinds, sources, newest] = await Promise.all([
        errors.countSince(since, 'kind'),
        errors.countSince(since, 'source'),
        latest > 0 ? errors.latest(since, latest) : Promise.resolve([]),
      ]);
      const byKind = ERROR_KINDS.map((kind) => ({ kind, count: kinds.find((k) => k.key === kind)?.count ?? 0 }));
      const bySource = sources
        .filter((s) => s.count > 0)
        .sort((a, b) => b.count - a.count || String(a.key ?? '').localeCompare(String(b.key ?? '')))
        .map((s) => ({ source: s.key, count: s.count }));
      return { since, total: byKind.reduce((sum, k) => sum + k.count, 0), byKind, bySource, latest: newest };
    },

    async userActivityHeatmap(userId, days) {
      requireId(userId, 'userId');
      intInRange(days, 1, MAX_DAYS, 'days');
      const from = now() - days * 24 * HOUR;
      return toHeatmap(userId, from, await analytics.userActivity(userId, from));
    },

    async eventRate(from, to, bucket) {
      const { first } = bucketRange(from, to, bucket); // checks before touching the store
      return toRateSeries(await analytics.bucketCounts(bucket, first, to), from, to, bucket);
    },

    recordError: (report) => recorder.record(report),
    flushErrors: () => recorder.flush(),

    async purgeBefore(before) {
      const [buckets, old] = await Promise.all([analytics.purgeBefore(before), errors.purgeBefore(before)]);
      return buckets + old;
    },
  };
}
