/**
 * EventStore on MongoDB (the `mongodb` driver). Works against MongoDB 6/7/8 and FerretDB v1, which is
 * what the integration tests run on: no transactions, no TTL indexes, no partial indexes, no collMod.
 *
 * `seq` comes from a counter document: each batch reserves a range with one `$inc`. Appends are
 * serialized inside the store (one batch in flight) and written with ordered inserts, so within one
 * process seq order is commit order. Calls that arrive while a batch is in flight are coalesced into
 * the next one (group commit). Several processes writing to one database get unique, increasing seqs,
 * but their commits may interleave out of seq order.
 *
 * This module only puts the parts together: event-docs.ts (documents and queries), seq-counter.ts,
 * batch-writer.ts (reservation, ordered insert, conflicts), group-commit.ts, event-indexes.ts (indexes and
 * retention) and driver.ts (error guard, write errors, index creation, shared by every MongoDB store).
 */
import { MongoClient, type Db } from 'mongodb';
import type { EventStore, ListOptions } from '../../events/event-store.js';
import { StoreError } from '../../errors.js';
import type { WithAnalytics } from '../../analytics/analytics-store.js';
import { createBatchWriter, type BatchWriter } from './batch-writer.js';
import { createErrorGuard, dbNameFromUrl, isDuplicateKey, type WarnLogger } from './driver.js';
import { abandonedDoc, toDoc, toEvent, toQuery, type EventDoc, type NewEventDoc } from './event-docs.js';
import { createRetention, ensureEventIndexes, supportsTtlIndexes, type RetentionMode } from './event-indexes.js';
import { createGroupCommit } from './group-commit.js';
import { createMongoAnalytics, type MongoAnalytics } from './mongo-analytics.js';
import { createMongoErrorStore } from './mongo-error-store.js';
import { highestReserved, maxSeq, syncCounter, type CounterDoc } from './seq-counter.js';
import { logEpoch } from './log-epoch.js';

export { dbNameFromUrl, supportsTtlIndexes, toQuery, type RetentionMode };

export interface MongoEventStoreOptions {
  /** Connection string. Never copied into error messages. */
  readonly url: string;
  /** Database name. @default the database in the URL path, else `herald` */
  readonly dbName?: string;
  /** Most events written per insert round trip; larger appends are split. @default 1000 */
  readonly maxBatch?: number;
  /** Receives warnings (index fallbacks, conflicting index options). @default silent */
  readonly logger?: WarnLogger;
}

export interface MongoEventStore extends EventStore, WithAnalytics {
  readonly kind: 'mongodb';
  readonly db: Db;
  /**
   * Makes events older than `days` expire. Where TTL indexes work (MongoDB) the `timestamp` index becomes
   * a TTL index (its `expireAfterSeconds` is updated when `days` changes) and the mode is `ttl`; otherwise
   * (FerretDB) nothing is changed and the mode is `purge`: the caller must call `purgeBefore` periodically.
   * `null` turns retention off, removing a TTL left by an earlier configuration (mode `off`).
   * @throws StoreError when the database fails; RangeError when `days` is not a positive number.
   */
  ensureRetention(days: number | null): Promise<{ mode: RetentionMode }>;
}

export const EVENTS_COLLECTION = 'event_logs';
export const COUNTERS_COLLECTION = 'counters';
const DEFAULT_DB = 'herald';

/** Creates the store: connects, creates indexes (idempotent) and aligns the seq counter with the log. */
export async function createMongoEventStore(options: MongoEventStoreOptions): Promise<MongoEventStore> {
  const maxBatch = options.maxBatch ?? 1000;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
  const logger = options.logger ?? { warn() {} };
  const failures = createErrorGuard('MongoDB event log', options.url);
  const fail = failures.wrap;

  let client: MongoClient | undefined;
  try {
    // Inside the try: a malformed URL throws from the constructor.
    client = new MongoClient(options.url);
    await client.connect();
  } catch (cause) {
    await client?.close().catch(() => {});
    throw fail('connect', cause);
  }
  const db = client.db(options.dbName ?? dbNameFromUrl(options.url) ?? DEFAULT_DB);
  const events = db.collection<EventDoc>(EVENTS_COLLECTION);
  const counters = db.collection<CounterDoc>(COUNTERS_COLLECTION);

  let analytics: MongoAnalytics;
  let errors: WithAnalytics['errors'];
  let epoch: string;
  try {
    await ensureEventIndexes(events, logger);
    epoch = await logEpoch(db);
    await syncCounter(events, counters);
    analytics = await createMongoAnalytics(db, EVENTS_COLLECTION, failures);
    errors = await createMongoErrorStore(db, failures);
  } catch (cause) {
    await client.close().catch(() => {});
    throw fail('start-up', cause);
  }

  const writer = withCounters(createBatchWriter(events, counters), analytics, logger);
  const queue = createGroupCommit(writer, maxBatch);
  const retention = createRetention(db, events);
  let closed = false;

  const guard = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    if (closed) throw new StoreError(`MongoDB event log: ${what} after close`);
    return failures.run(what, fn);
  };

  return {
    kind: 'mongodb',
    epoch,
    db,
    analytics,
    errors,

    async append(batch) {
      if (closed) throw new StoreError('MongoDB event log: append after close');
      if (batch.length === 0) return [];
      // Built before queueing: a malformed event rejects its own call, not the batch it would join.
      let docs: NewEventDoc[];
      try {
        docs = batch.map(toDoc);
      } catch (cause) {
        throw new StoreError('MongoDB event log: append failed: invalid event', { cause });
      }
      try {
        return await queue.push(batch.map((event, i) => ({ event, doc: docs[i]! })));
      } catch (cause) {
        throw fail('append', cause);
      }
    },

    get: (id) =>
      guard('get', async () => {
        const doc = await events.findOne({ _id: id });
        return doc ? toEvent(doc) : null;
      }),

    list: ({ filter, afterSeq, untilSeq, order, limit }: ListOptions) =>
      guard('list', async () => {
        const query = toQuery(filter);
        // limit(0) means "no limit" to MongoDB.
        if (query === null || limit <= 0) return [];
        const range: { $gt?: number; $lt?: number; $lte?: number } = {};
        if (afterSeq !== undefined) range[order === 'ASC' ? '$gt' : '$lt'] = afterSeq;
        if (untilSeq !== undefined) range.$lte = untilSeq;
        if (afterSeq !== undefined || untilSeq !== undefined) query.seq = range;
        const docs = await events
          .find(query)
          .sort({ seq: order === 'ASC' ? 1 : -1 })
          .limit(limit)
          .toArray();
        return docs.map(toEvent);
      }),

    countSince: (since) => guard('countSince', () => events.countDocuments({ timestamp: { $gte: new Date(since) }, abandoned: { $ne: true } })),

    abandon: (seq) =>
      guard('abandon', async () => {
        // The unique index on seq arbitrates between this marker and a late writer: whoever inserts first wins.
        const marker = abandonedDoc(seq);
        try {
          await events.insertOne(marker as EventDoc);
          return null;
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
        const doc = await events.findOne({ seq });
        return doc && !doc.abandoned ? toEvent(doc) : null;
      }),

    lastSeq: () => guard('lastSeq', () => maxSeq(events)),

    bounds: () =>
      guard('bounds', async () => {
        const [first] = await events.find({}, { projection: { seq: 1 } }).sort({ seq: 1 }).limit(1).toArray();
        // The counter keeps the highest seq reserved, also once retention has purged it.
        const reserved = await highestReserved(counters);
        return { oldest: first ? Number(first.seq) : null, head: Math.max(await maxSeq(events), reserved) };
      }),
    purgeBefore: (before) =>
      guard('purgeBefore', async () => (await events.deleteMany({ timestamp: { $lt: new Date(before) } })).deletedCount),

    async ensureRetention(days) {
      if (days !== null && !(Number.isFinite(days) && days > 0)) throw new RangeError('retention days must be > 0');
      return guard('ensureRetention', () => retention(days));
    },

    async close() {
      if (closed) return;
      closed = true;
      await queue.drain();
      try {
        await client.close();
      } catch (cause) {
        throw fail('close', cause);
      }
    },
  };
}

/**
 * Counts each written batch in `event_analytics` after its insert (see mongo-analytics.ts for the crash
 * window). A counter failure is logged, not thrown: the events are already durable, and failing the append
 * would make publishers retry and duplicate them.
 */
function withCounters(write: BatchWriter, analytics: MongoAnalytics, logger: WarnLogger): BatchWriter {
  return async (items) => {
    const outcomes = await write(items);
    const fresh = outcomes.flatMap((o) => ('event' in o && !o.duplicate ? [o.event] : []));
    try {
      await analytics.count(fresh);
    } catch (error) {
      logger.warn({ err: error, events: fresh.length }, 'event_analytics counters not updated for a batch');
    }
    return outcomes;
  };
}
