/**
 * Indexes and retention of `event_logs`: the indexes every query and the unique `seq` arbitration rely on,
 * created idempotently at start-up, and the TTL on `timestamp` where the server supports TTL indexes (MongoDB;
 * FerretDB v1 does not, and the caller purges instead). See docs/mongodb.md, Indexes and Retention.
 */
import { MongoServerError, type Collection, type Db, type IndexDescription } from 'mongodb';
import { StoreError } from '../../errors.js';
import { ensureIndexes, listIndexesOf, sameKey, type WarnLogger } from './driver.js';
import type { EventDoc } from './event-docs.js';

/** How expired events leave the log: a TTL index, a periodic `purgeBefore` run by the caller, or not at all. */
export type RetentionMode = 'ttl' | 'purge' | 'off';

const INDEXES: readonly IndexDescription[] = [
  { key: { seq: 1 }, name: 'seq_1', unique: true },
  { key: { timestamp: 1 }, name: 'timestamp_1' },
  { key: { type: 1 }, name: 'type_1' },
  { key: { userId: 1 }, name: 'userId_1' },
  { key: { source: 1 }, name: 'source_1' },
  { key: { timestamp: 1, type: 1 }, name: 'timestamp_1_type_1' },
  { key: { userId: 1, timestamp: 1 }, name: 'userId_1_timestamp_1' },
  { key: { userId: 1, seq: 1 }, name: 'userId_1_seq_1' },
  { key: { deliveryId: 1, seq: 1 }, name: 'deliveryId_1_seq_1' },
  // A viewer's events are `$or: [{ userId }, { roles }]`: MongoDB uses indexes for an `$or` only when every branch
  // has one (else it scans the collection), and merges the two in seq order when both end in `seq`.
  { key: { roles: 1, seq: 1 }, name: 'roles_1_seq_1' },
];
const IDEMPOTENCY_INDEX = 'idempotencyKey_unique';
const TIMESTAMP_KEY = { timestamp: 1 } as const;

/**
 * Creates the missing indexes of `event_logs` (see `ensureIndexes`); an index whose key pattern already exists is
 * left alone, so a TTL set on `timestamp_1` by `ensureRetention` survives restarts. Existing indexes with another
 * uniqueness are logged, not changed, except a non-unique `seq` index, which refuses the start.
 */
export async function ensureEventIndexes(events: Collection<EventDoc>, logger: WarnLogger): Promise<void> {
  const { existing, mismatches } = await ensureIndexes(events, INDEXES);
  for (const { name, expectedUnique } of mismatches) {
    // Positions are arbitrated by this index (docs/cursors.md): without it two writers could share one.
    const index = existing.find((i) => i.name === name);
    if (expectedUnique && index && sameKey(index.key, { seq: 1 })) {
      throw new StoreError('MongoDB event log: the index on event_logs.seq exists but is not unique; drop it (Herald recreates it unique) before starting');
    }
    logger.warn({ index: name, expectedUnique }, 'event_logs index has unexpected options');
  }
  if (existing.some((index) => sameKey(index.key, { idempotencyKey: 1 }))) return;
  try {
    // Partial is MongoDB's recommended form; FerretDB v1 answers NotImplemented.
    await events.createIndex(
      { idempotencyKey: 1 },
      { name: IDEMPOTENCY_INDEX, unique: true, partialFilterExpression: { idempotencyKey: { $exists: true } } },
    );
  } catch (error) {
    if (!(error instanceof MongoServerError)) throw error;
    logger.warn({ code: error.code }, 'partial unique index refused; using a sparse unique index for idempotencyKey');
    await events.createIndex({ idempotencyKey: 1 }, { name: IDEMPOTENCY_INDEX, unique: true, sparse: true });
  }
}

/**
 * The store's `ensureRetention` once `days` is checked: probes TTL support once per store (again after a probe
 * that could not reach the server), then sets, changes or removes the TTL where it is supported.
 */
export function createRetention(db: Db, events: Collection<EventDoc>): (days: number | null) => Promise<{ mode: RetentionMode }> {
  let ttlSupported: Promise<boolean> | undefined;
  return async (days) => {
    ttlSupported ??= supportsTtlIndexes(db).catch((error: unknown) => {
      ttlSupported = undefined; // probe again next time: the server was unreachable, not unwilling
      throw error;
    });
    if (!(await ttlSupported)) return { mode: days === null ? 'off' : 'purge' };
    await applyTtl(events, days === null ? null : Math.max(1, Math.round(days * 86_400)));
    return { mode: days === null ? 'off' : 'ttl' };
  };
}

/**
 * Whether the server accepts TTL indexes: creates one on a scratch collection and drops it.
 * True on MongoDB, false on FerretDB v1 (`NotImplemented`).
 * @throws StoreError when the server cannot be reached (as opposed to refusing the index).
 */
export async function supportsTtlIndexes(db: Db): Promise<boolean> {
  const scratch = db.collection(`herald_ttl_probe_${process.pid}_${Date.now().toString(36)}`);
  try {
    await scratch.createIndex({ at: 1 }, { expireAfterSeconds: 3600, name: 'ttl_probe' });
    return true;
  } catch (error) {
    if (error instanceof MongoServerError) return false;
    throw new StoreError('MongoDB event log: TTL probe failed', { cause: error });
  } finally {
    await scratch.drop().catch(() => {});
  }
}

/** Sets (seconds) or removes (null) the TTL on the `timestamp` index. */
async function applyTtl(events: Collection<EventDoc>, seconds: number | null): Promise<void> {
  const current = (await listIndexesOf(events)).find((index) => sameKey(index.key, TIMESTAMP_KEY));
  const currentTtl = current?.expireAfterSeconds as number | undefined;
  if (seconds === null) {
    if (current && currentTtl !== undefined) {
      await events.dropIndex(current.name as string);
      await events.createIndex(TIMESTAMP_KEY, { name: 'timestamp_1' });
    }
    return;
  }
  if (currentTtl === seconds) return;
  if (!current) {
    await events.createIndex(TIMESTAMP_KEY, { name: 'timestamp_1', expireAfterSeconds: seconds });
    return;
  }
  try {
    // MongoDB >= 5.1 turns a plain single-field index into a TTL index, or changes its TTL, in place.
    await events.db.command({ collMod: events.collectionName, index: { keyPattern: TIMESTAMP_KEY, expireAfterSeconds: seconds } });
  } catch (error) {
    if (!(error instanceof MongoServerError)) throw error;
    await events.dropIndex(current.name as string);
    await events.createIndex(TIMESTAMP_KEY, { name: 'timestamp_1', expireAfterSeconds: seconds });
  }
}
