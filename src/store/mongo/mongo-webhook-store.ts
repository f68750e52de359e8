/**
 * WebhookStore on MongoDB, sharing the event store's connection. Uses only what FerretDB v1 supports too:
 * CRUD, unordered inserts, `findOneAndUpdate` with sort, `bulkWrite`, unique compound indexes and a
 * `$match`/`$group` pipeline. No transactions: each claim is one atomic `findOneAndUpdate`, results are applied
 * only while the claim's `leaseId` still holds the delivery, and the enqueuer's cursor is written after its
 * deliveries (a crash in between re-inserts nothing: the (endpointId, eventId) index is unique).
 *
 * FerretDB v1 does not isolate concurrent updates of one document (two `findOneAndUpdate`s can both match and
 * "win" it; checked in test/integration/webhooks-store.test.ts), so a claim is not an update race: the claimer
 * inserts a claim token `<deliveryId>:<claims>` into `webhook_claims`, whose unique `_id` lets exactly one of
 * several instances claiming the same delivery from the same state win (a unique index holds on FerretDB too);
 * only the winner then writes the lease and bumps the delivery's `claims` count, so the next claim (after a
 * retry, a release or an expired lease) has a token of its own. Losers never write the delivery. Claims are also
 * serialized within the process (fewer wasted tokens).
 */
import type { AnyBulkWriteOperation, Collection, Db, Filter, IndexDescription } from 'mongodb';
import type { AttemptRecord, DeliveryQuery, WebhookStore } from '../../webhooks/webhook-store.js';
import type { DeliveryAttempt, DeliveryId, EndpointId, WebhookDelivery, WebhookEndpoint } from '../../webhooks/model.js';
import { StoreError } from '../../errors.js';
import { createErrorGuard, ensureIndexes, isDuplicateKey, partialWrite } from './driver.js';

export interface MongoWebhookStoreOptions {
  /** The database of the event store; its client is owned (and closed) by the event store. */
  readonly db: Db;
}

export const WEBHOOK_COLLECTIONS = {
  endpoints: 'webhook_endpoints',
  deliveries: 'webhook_deliveries',
  attempts: 'webhook_attempts',
  cursor: 'webhook_cursor',
  claims: 'webhook_claims',
} as const;

type EndpointDoc = Omit<WebhookEndpoint, 'id'> & { _id: string };
/** `claims`: how many times the delivery was claimed (absent on documents of Herald before claim tokens: 0). */
type DeliveryDoc = Omit<WebhookDelivery, 'id'> & { _id: string; claims?: number };
interface ClaimDoc {
  _id: string;
  leaseId: string;
  at: number;
}
type AttemptDoc = DeliveryAttempt & { endpointId: string };
interface CursorDoc {
  _id: string;
  seq: number;
}

/** Created at start-up when missing (see `ensureIndexes`); `webhook_cursor` needs none. */
const INDEXES: Readonly<Partial<Record<keyof typeof WEBHOOK_COLLECTIONS, readonly IndexDescription[]>>> = {
  endpoints: [{ key: { ownerId: 1, createdAt: 1 }, name: 'owner_created' }],
  deliveries: [
    { key: { endpointId: 1, eventId: 1 }, name: 'endpoint_event', unique: true },
    { key: { endpointId: 1, status: 1, nextAttemptAt: 1 }, name: 'endpoint_due' },
    { key: { status: 1, nextAttemptAt: 1 }, name: 'due' },
    { key: { endpointId: 1, _id: -1 }, name: 'endpoint_log' },
    { key: { createdAt: 1 }, name: 'created' },
  ],
  claims: [{ key: { at: 1 }, name: 'claimed_at' }],
  attempts: [
    { key: { deliveryId: 1, n: 1 }, name: 'delivery_n' },
    { key: { endpointId: 1 }, name: 'endpoint' },
  ],
};

const CURSOR = 'enqueuer';
const CHUNK = 1000;

const toEndpoint = ({ _id, ...doc }: EndpointDoc): WebhookEndpoint => ({ ...doc, id: _id as EndpointId });
const toDelivery = ({ _id, claims: _claims, ...doc }: DeliveryDoc): WebhookDelivery => ({ ...doc, id: _id as DeliveryId });
const toAttempt = ({ endpointId: _endpointId, _id: _ignored, ...doc }: AttemptDoc & { _id?: unknown }): DeliveryAttempt => doc;
const endpointDoc = ({ id, ...endpoint }: WebhookEndpoint): EndpointDoc => ({ ...endpoint, _id: id });
const deliveryDoc = ({ id, ...delivery }: WebhookDelivery): DeliveryDoc => ({ ...delivery, _id: id });

/** Inserts documents, ignoring duplicate-key refusals; @returns how many were inserted. */
async function insertIgnoringDuplicates<T extends { _id: string }>(collection: Collection<T>, docs: readonly T[]): Promise<number> {
  if (docs.length === 0) return 0;
  try {
    const result = await collection.insertMany(docs as never[], { ordered: false });
    return result.insertedCount;
  } catch (error) {
    const failure = partialWrite(error);
    // Only duplicates (deliveries already stored) are fine. A failure without per-document errors (the network or
    // the server failed mid-write) or with a write-concern error leaves deliveries unstored: the caller must not
    // move its cursor past them, so it is thrown.
    if (failure && failure.writeErrors.length > 0 && !failure.writeConcernError && failure.writeErrors.every(isDuplicateKey)) return failure.insertedCount;
    throw error;
  }
}

const chunks = <T>(items: readonly T[], size = CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

export async function createMongoWebhookStore(options: MongoWebhookStoreOptions): Promise<WebhookStore> {
  const { db } = options;
  const endpoints = db.collection<EndpointDoc>(WEBHOOK_COLLECTIONS.endpoints);
  const deliveries = db.collection<DeliveryDoc>(WEBHOOK_COLLECTIONS.deliveries);
  const attempts = db.collection<AttemptDoc>(WEBHOOK_COLLECTIONS.attempts);
  const cursor = db.collection<CursorDoc>(WEBHOOK_COLLECTIONS.cursor);
  const claims = db.collection<ClaimDoc>(WEBHOOK_COLLECTIONS.claims);

  /** Claims one delivery found due: @returns it leased, or null when another claimer won it or it changed meanwhile. */
  const claimOne = async (doc: DeliveryDoc, now: number, leaseUntil: number, leaseId: string): Promise<WebhookDelivery | null> => {
    const n = doc.claims ?? 0;
    try {
      await claims.insertOne({ _id: `${doc._id}:${n}`, leaseId, at: now });
    } catch (error) {
      if (isDuplicateKey(error)) return null;
      throw error;
    }
    const won = await deliveries.updateOne(
      { _id: doc._id, status: 'pending', claims: n === 0 ? { $in: [0, null] } : n } as Filter<DeliveryDoc>,
      { $set: { leaseUntil, leaseId, claims: n + 1 } },
    );
    return won.modifiedCount === 1 ? toDelivery({ ...doc, leaseUntil, leaseId }) : null;
  };

  // No URL here (the event store owns the connection), so messages carry no driver text (see createErrorGuard).
  const guard = createErrorGuard('MongoDB webhook store').run;

  await guard('start-up', async () => {
    for (const [name, indexes] of Object.entries(INDEXES) as [keyof typeof INDEXES, readonly IndexDescription[]][]) {
      const { mismatches } = await ensureIndexes(db.collection(WEBHOOK_COLLECTIONS[name]), indexes);
      // endpoint_event's uniqueness is what makes enqueueing idempotent: refuse to run without it.
      if (mismatches.length > 0) {
        throw new StoreError(`MongoDB webhook store: ${WEBHOOK_COLLECTIONS[name]} index ${mismatches.map((m) => m.name).join(', ')} has the wrong uniqueness`);
      }
    }
  });

  // One claim at a time in this process (see the FerretDB note above).
  let claimChain: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const result = claimChain.then(fn, fn);
    claimChain = result.catch(() => {});
    return result;
  };

  const removeDeliveries = async (filter: Filter<DeliveryDoc>): Promise<number> => {
    let removed = 0;
    for (;;) {
      const ids = (await deliveries.find(filter, { projection: { _id: 1 } }).limit(CHUNK).toArray()).map((d) => d._id);
      if (ids.length === 0) return removed;
      await attempts.deleteMany({ deliveryId: { $in: ids as DeliveryId[] } });
      removed += (await deliveries.deleteMany({ _id: { $in: ids } })).deletedCount;
    }
  };

  return {
    kind: 'mongodb',

    insertEndpoint: (endpoint) => guard('insertEndpoint', async () => void (await endpoints.insertOne(endpointDoc(endpoint)))),
    getEndpoint: (id) =>
      guard('getEndpoint', async () => {
        const doc = await endpoints.findOne({ _id: id });
        return doc ? toEndpoint(doc) : null;
      }),
    listEndpoints: ({ ownerId } = {}) =>
      guard('listEndpoints', async () =>
        (await endpoints.find(ownerId === undefined ? {} : { ownerId }).sort({ createdAt: 1, _id: 1 }).toArray()).map(toEndpoint),
      ),
    countEndpoints: (ownerId) => guard('countEndpoints', () => endpoints.countDocuments({ ownerId })),
    updateEndpoint: (id, patch, updatedAt) =>
      guard('updateEndpoint', async () => {
        const set: Record<string, unknown> = { updatedAt };
        for (const [key, value] of Object.entries(patch)) if (value !== undefined) set[key] = value;
        const doc = await endpoints.findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after' });
        return doc ? toEndpoint(doc) : null;
      }),
    deleteEndpoint: (id) =>
      guard('deleteEndpoint', async () => {
        await attempts.deleteMany({ endpointId: id });
        await deliveries.deleteMany({ endpointId: id });
        return (await endpoints.deleteOne({ _id: id })).deletedCount > 0;
      }),

    readCursor: () => guard('readCursor', async () => (await cursor.findOne({ _id: CURSOR }))?.seq ?? null),
    enqueue: (list, seq) =>
      guard('enqueue', async () => {
        let inserted = 0;
        for (const chunk of chunks(list)) inserted += await insertIgnoringDuplicates(deliveries, chunk.map(deliveryDoc));
        if (seq !== undefined) await cursor.updateOne({ _id: CURSOR }, { $set: { seq } }, { upsert: true });
        return inserted;
      }),
    requeue: (list) =>
      guard('requeue', async () => {
        let queued = 0;
        for (const chunk of chunks(list)) {
          queued += await insertIgnoringDuplicates(deliveries, chunk.map(deliveryDoc));
          const ops: AnyBulkWriteOperation<DeliveryDoc>[] = chunk.map((d) => ({
            updateOne: {
              filter: { endpointId: d.endpointId, eventId: d.eventId, status: { $ne: 'pending' } },
              update: {
                $set: { status: 'pending', scheduleStep: 0, nextAttemptAt: d.nextAttemptAt, updatedAt: d.updatedAt, lastError: null, leaseUntil: 0, leaseId: null },
              },
            },
          }));
          queued += (await deliveries.bulkWrite(ops, { ordered: false })).modifiedCount;
        }
        return queued;
      }),

    dueEndpoints: (now, limit) =>
      guard('dueEndpoints', async () => {
        const rows = await deliveries
          .aggregate<{ _id: string }>([
            { $match: { status: 'pending', nextAttemptAt: { $lte: now }, leaseUntil: { $lte: now } } },
            { $group: { _id: '$endpointId' } },
            { $limit: limit },
          ])
          .toArray();
        return rows.map((r) => r._id as EndpointId);
      }),
    claim: (endpointId, now, leaseUntil, leaseId, limit) =>
      guard('claim', () => serialized(async () => {
        const claimed: WebhookDelivery[] = [];
        // Two rounds at most: what another instance won in the first is leased (or about to be) in the second.
        for (let round = 0; round < 2 && claimed.length < limit; round++) {
          const due = await deliveries
            .find({ endpointId, status: 'pending', nextAttemptAt: { $lte: now }, leaseUntil: { $lte: now } })
            .sort({ nextAttemptAt: 1, eventSeq: 1 })
            .limit(limit - claimed.length)
            .toArray();
          if (due.length === 0) break;
          let lost = 0;
          for (const doc of due) {
            if (claimed.some((c) => c.id === doc._id)) continue;
            const delivery = await claimOne(doc, now, leaseUntil, leaseId);
            if (delivery) claimed.push(delivery);
            else lost++;
          }
          if (lost === 0) break;
        }
        return claimed;
      })),
    complete: (records: readonly AttemptRecord[]) =>
      guard('complete', async () => {
        if (records.length === 0) return;
        // The attempt is logged before the delivery's status moves, so a reader that sees the new
        // status always finds the attempt that caused it (no transaction spans the two collections).
        await attempts.insertMany(
          records.map(({ endpointId, attempt }) => ({ ...attempt, endpointId })),
          { ordered: false },
        );
        await deliveries.bulkWrite(
          records.map(({ deliveryId, leaseId, update }) => ({
            updateOne: { filter: { _id: deliveryId, leaseId }, update: { $set: { ...update, leaseUntil: 0, leaseId: null } } },
          })),
          { ordered: false },
        );
      }),
    release: (ids, leaseId) =>
      guard('release', async () => {
        if (ids.length) await deliveries.updateMany({ _id: { $in: [...ids] }, leaseId }, { $set: { leaseUntil: 0, leaseId: null } });
      }),
    releaseStaleLeases: async () => 0,

    getDelivery: (id) =>
      guard('getDelivery', async () => {
        const doc = await deliveries.findOne({ _id: id });
        return doc ? toDelivery(doc) : null;
      }),
    listDeliveries: ({ endpointId, status, beforeId, limit }: DeliveryQuery) =>
      guard('listDeliveries', async () => {
        const filter: Filter<DeliveryDoc> = {
          endpointId,
          ...(status === undefined ? {} : { status }),
          ...(beforeId === undefined ? {} : { _id: { $lt: beforeId } }),
        };
        return (await deliveries.find(filter).sort({ _id: -1 }).limit(limit).toArray()).map(toDelivery);
      }),
    listAttempts: (ids) =>
      guard('listAttempts', async () => {
        if (ids.length === 0) return [];
        const docs = await attempts.find({ deliveryId: { $in: [...ids] } }).sort({ deliveryId: 1, n: 1, at: 1 }).toArray();
        return docs.map(toAttempt);
      }),
    purgeBefore: (before) =>
      guard('purgeBefore', async () => {
        await claims.deleteMany({ at: { $lt: before } });
        return removeDeliveries({ createdAt: { $lt: before }, status: { $ne: 'pending' } });
      }),

    async close() {
      // The connection belongs to the event store.
    },
  };
}
