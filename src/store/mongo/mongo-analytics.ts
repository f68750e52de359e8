/**
 * Analytics on MongoDB: counters in `event_analytics`, updated with `$inc` upserts in one unordered `bulkWrite`
 * per appended batch. Two kinds of documents, so a batch touches a handful of them and a read is a few `_id`s:
 *
 * - `day|YYYY-MM-DD`: `{ kind: 'day', day, start, total, type: {…}, source: {…}, level: {…}, hours: { '0'…'23' } }`
 * - `min|<hour start ms>`: `{ kind: 'minutes', start, m: { '0'…'59' } }`
 *
 * Keys are escaped (`%`, `.` and `$` as `%25`, `%2E`, `%24`): a source may contain dots.
 *
 * Crash window: there are no multi-collection transactions on FerretDB, so counters are written after the
 * events. A process that dies between the two writes (or a failed counter write, which is logged and not
 * retried) leaves that batch's events in the log but not in the counters: counters can under-count, never
 * over-count. Everything else (heatmap, timeline, critical events) reads the log itself.
 */
import type { AnyBulkWriteOperation, Collection, Db, IndexDescription } from 'mongodb';
import { BUCKET_MS, type ActivityCell, type AnalyticsStore, type BucketCount, type DailyCount, type RateBucket } from '../../analytics/analytics-store.js';
import { bucketStart, counterIncrements, TOTAL_KEY, utcDay } from '../../analytics/counters.js';
import type { NewEvent } from '../../events/model.js';
import { ensureIndexes, isDuplicateKey, partialWrite, type ErrorGuard } from './driver.js';

export const ANALYTICS_COLLECTION = 'event_analytics';

type Counts = Record<string, number>;

interface CounterDoc {
  _id: string;
  kind: 'day' | 'minutes';
  start: Date;
  day?: string;
  total?: number;
  type?: Counts;
  source?: Counts;
  level?: Counts;
  hours?: Counts;
  m?: Counts;
}

const INDEXES: readonly IndexDescription[] = [{ key: { kind: 1, start: 1 }, name: 'kind_1_start_1' }];

const { hour: HOUR, day: DAY, minute: MINUTE } = BUCKET_MS;

const escapeKey = (key: string) => key.replace(/[%.$]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const unescapeKey = (key: string) => key.replace(/%(25|2E|24)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

const dayId = (dayStart: number) => `day|${utcDay(dayStart)}`;
const minutesId = (hourStart: number) => `min|${hourStart}`;

export interface MongoAnalytics extends AnalyticsStore {
  /** Adds committed events to the counters (one round trip). */
  count(events: readonly NewEvent[]): Promise<void>;
}

/** The upserts a batch of committed events needs: one per day and one per hour it touches. */
export function counterUpdates(events: readonly NewEvent[]): AnyBulkWriteOperation<CounterDoc>[] {
  const updates = new Map<string, { inc: Counts; onInsert: Omit<CounterDoc, '_id'> }>();
  const doc = (id: string, onInsert: Omit<CounterDoc, '_id'>) => {
    let entry = updates.get(id);
    if (!entry) updates.set(id, (entry = { inc: {}, onInsert }));
    return entry.inc;
  };
  const dayDoc = (dayStart: number) => doc(dayId(dayStart), { kind: 'day', day: utcDay(dayStart), start: new Date(dayStart) });
  const { daily, buckets } = counterIncrements(events);
  for (const c of daily) {
    const inc = dayDoc(Date.parse(`${c.day}T00:00:00Z`));
    inc[c.dimension === 'total' ? 'total' : `${c.dimension}.${escapeKey(c.key)}`] = c.count;
  }
  for (const c of buckets) {
    if (c.bucket === 'hour') {
      const dayStart = bucketStart(c.start, 'day');
      dayDoc(dayStart)[`hours.${(c.start - dayStart) / HOUR}`] = c.count;
    } else if (c.bucket === 'minute') {
      const hourStart = bucketStart(c.start, 'hour');
      doc(minutesId(hourStart), { kind: 'minutes', start: new Date(hourStart) })[`m.${(c.start - hourStart) / MINUTE}`] = c.count;
    } // day buckets are the day documents' `total`
  }
  return [...updates].map(([_id, { inc, onInsert }]) => ({
    updateOne: { filter: { _id }, update: { $inc: inc, $setOnInsert: onInsert } as never, upsert: true },
  }));
}

/** Creates the index (idempotent) and returns the store; `errors` is the event log's guard (no URL in messages). */
export async function createMongoAnalytics(db: Db, eventsCollection: string, errors: ErrorGuard): Promise<MongoAnalytics> {
  const counters = db.collection<CounterDoc>(ANALYTICS_COLLECTION);
  const events = db.collection(eventsCollection);
  await ensureIndexes(counters, INDEXES);
  const guard = errors.scoped('analytics').run;

  /** The documents `ids`, by id (one `$in` on `_id`). */
  const byIds = async (ids: string[]) => new Map((await counters.find({ _id: { $in: ids } }).toArray()).map((d) => [d._id, d]));

  /** Every multiple of `step` in [first, to). */
  const starts = (first: number, to: number, step: number) => Array.from({ length: Math.max(0, Math.ceil((to - first) / step)) }, (_, i) => first + i * step);

  return {
    count: (batch) =>
      guard('count', async () => {
        if (batch.length > 0) await bulkUpsert(counters, counterUpdates(batch));
      }),

    dailyCounts: (day) =>
      guard('daily counts', async () => {
        const doc = await counters.findOne({ _id: `day|${day}` });
        if (!doc) return [];
        const out: DailyCount[] = [{ dimension: 'total', key: TOTAL_KEY, count: Number(doc.total ?? 0) }];
        for (const dimension of ['type', 'source', 'level'] as const) {
          for (const [key, count] of Object.entries(doc[dimension] ?? {})) out.push({ dimension, key: unescapeKey(key), count: Number(count) });
        }
        return out;
      }),

    bucketCounts: (bucket: RateBucket, from, to) =>
      guard('bucket counts', async () => {
        const out: BucketCount[] = [];
        if (bucket === 'minute') {
          const hours = starts(bucketStart(from, 'hour'), to, HOUR);
          const docs = await byIds(hours.map(minutesId));
          for (const hourStart of hours) {
            for (const [minute, count] of Object.entries(docs.get(minutesId(hourStart))?.m ?? {})) out.push({ start: hourStart + Number(minute) * MINUTE, count: Number(count) });
          }
        } else {
          const days = starts(bucketStart(from, 'day'), to, DAY);
          const docs = await byIds(days.map(dayId));
          for (const dayStart of days) {
            const doc = docs.get(dayId(dayStart));
            if (!doc) continue;
            if (bucket === 'day') out.push({ start: dayStart, count: Number(doc.total ?? 0) });
            else for (const [hour, count] of Object.entries(doc.hours ?? {})) out.push({ start: dayStart + Number(hour) * HOUR, count: Number(count) });
          }
        }
        return out.filter((b) => b.count > 0 && b.start >= from && b.start < to).sort((a, b) => a.start - b.start);
      }),

    userActivity: (userId, from) =>
      guard('user activity', async () => {
        // One accumulator per $group: FerretDB v1 may compute only the first of several.
        const rows = await events
          .aggregate<{ _id: { weekday: number; hour: number }; count: number }>([
            { $match: { userId, timestamp: { $gte: new Date(from) } } },
            { $group: { _id: { weekday: '$weekday', hour: '$hour' }, count: { $sum: 1 } } },
          ])
          .toArray();
        return rows.map((r): ActivityCell => ({ weekday: Number(r._id.weekday), hour: Number(r._id.hour), count: Number(r.count) }));
      }),

    purgeBefore: (before) =>
      guard('purge', async () => {
        const hourStart = bucketStart(before, 'hour');
        const { deletedCount } = await counters.deleteMany({ kind: 'minutes', start: { $lt: new Date(hourStart) } });
        // The hour holding `before` keeps only its minutes from `before` on.
        const stale = Array.from({ length: Math.ceil((before - hourStart) / MINUTE) }, (_, m) => [`m.${m}`, ''] as const);
        if (stale.length > 0) await counters.updateOne({ _id: minutesId(hourStart) }, { $unset: Object.fromEntries(stale) });
        return deletedCount;
      }),
  };
}

/**
 * Applies the upserts unordered. Two writers upserting the same new counter at once can make one of them fail
 * with a duplicate key (the other inserted it first): only those operations are retried, once.
 */
async function bulkUpsert(counters: Collection<CounterDoc>, ops: AnyBulkWriteOperation<CounterDoc>[]): Promise<void> {
  try {
    await counters.bulkWrite(ops, { ordered: false });
  } catch (error) {
    const writeErrors = partialWrite(error)?.writeErrors ?? [];
    if (writeErrors.length === 0 || !writeErrors.every(isDuplicateKey)) throw error;
    await counters.bulkWrite(writeErrors.map((e) => ops[e.index]!), { ordered: false });
  }
}
