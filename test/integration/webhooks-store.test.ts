/**
 * The WebhookStore contract, run against SQLite and (when `startMongoForTests()` finds one) MongoDB/FerretDB.
 */
import Database from 'better-sqlite3';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteWebhookStore } from '../../src/store/sqlite/sqlite-webhook-store.js';
import { createMongoWebhookStore } from '../../src/store/mongo/mongo-webhook-store.js';
import type { WebhookStore } from '../../src/webhooks/webhook-store.js';
import {
  newDelivery,
  newEndpointId,
  type DeliveryAttempt,
  type EndpointId,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '../../src/webhooks/model.js';
import type { EventId } from '../../src/events/model.js';
import { StoreError } from '../../src/errors.js';
import { startMongoForTests, uniqueDbName } from '../utils/mongo.js';

const mongo = await startMongoForTests();
const mongoSkip = 'skip' in mongo ? mongo.skip : undefined;
if (mongoSkip) console.warn(mongoSkip);

const T0 = 1_750_000_000_000;

function endpoint(overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  return {
    id: newEndpointId(T0),
    ownerId: 'sup_1',
    ownerRole: 'supplier',
    url: 'https://hooks.example.com/herald',
    description: null,
    eventTypes: ['order_created'],
    minLevel: 'HIGH',
    mode: 'ALWAYS',
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    failingSince: null,
    secrets: [{ secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=', createdAt: T0, expiresAt: null }],
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

let seq = 0;
function delivery(endpointId: EndpointId, overrides: Partial<WebhookDelivery> = {}): WebhookDelivery {
  seq++;
  return { ...newDelivery({ id: endpointId }, { id: `evt_${seq}` as EventId, seq, type: 'order_created' }, T0 + seq), ...overrides };
}

const attempt = (d: WebhookDelivery, n: number, httpStatus: number): DeliveryAttempt => ({
  deliveryId: d.id,
  n,
  at: T0 + n,
  httpStatus,
  latencyMs: 12,
  errorKind: httpStatus < 300 ? null : 'http_status',
  error: httpStatus < 300 ? null : `HTTP ${httpStatus}`,
  responseBody: 'body',
});

interface Backend {
  readonly name: string;
  readonly skip?: string;
  open(): Promise<WebhookStore>;
  cleanup(): Promise<void>;
}

const sqliteDbs: Database.Database[] = [];
let mongoClient: MongoClient | undefined;
const mongoDbs: string[] = [];

const backends: Backend[] = [
  {
    name: 'SQLite',
    async open() {
      const db = new Database(':memory:');
      sqliteDbs.push(db);
      return createSqliteWebhookStore({ db, ownsDb: true });
    },
    async cleanup() {
      for (const db of sqliteDbs) if (db.open) db.close();
    },
  },
  {
    name: 'MongoDB',
    skip: mongoSkip,
    async open() {
      mongoClient ??= await new MongoClient((mongo as { url: string }).url).connect();
      const name = uniqueDbName();
      mongoDbs.push(name);
      return createMongoWebhookStore({ db: mongoClient.db(name) });
    },
    async cleanup() {
      for (const name of mongoDbs) await mongoClient?.db(name).dropDatabase().catch(() => {});
      await mongoClient?.close();
      if (!('skip' in mongo)) await mongo.stop();
    },
  },
];

// Runs before the contract below, whose MongoDB cleanup stops the server and drops these databases too.
describe.skipIf(mongoSkip !== undefined)('WebhookStore on MongoDB: indexes', () => {
  const openDb = async () => {
    mongoClient ??= await new MongoClient((mongo as { url: string }).url).connect();
    const name = uniqueDbName();
    mongoDbs.push(name);
    return mongoClient.db(name);
  };
  const names = async (db: Db, collection: string) => (await db.collection(collection).listIndexes().toArray()).map((index) => String(index.name)).sort();

  it('creates its indexes at start-up, once however often it starts', async () => {
    const db = await openDb();
    for (let i = 0; i < 3; i++) await createMongoWebhookStore({ db });
    expect(await names(db, 'webhook_endpoints')).toEqual(['_id_', 'owner_created']);
    expect(await names(db, 'webhook_deliveries')).toEqual(['_id_', 'created', 'due', 'endpoint_due', 'endpoint_event', 'endpoint_log']);
    expect(await names(db, 'webhook_attempts')).toEqual(['_id_', 'delivery_n', 'endpoint']);
    expect(await names(db, 'webhook_claims')).toEqual(['_id_', 'claimed_at']);
  });

  it('leases each due delivery to exactly one of two instances claiming at once (claim tokens under a unique _id, also on FerretDB)', async () => {
    const name = uniqueDbName();
    mongoDbs.push(name);
    // Two connections, as two instances have: FerretDB does not isolate concurrent updates across connections.
    const other = await new MongoClient((mongo as { url: string }).url).connect();
    try {
      mongoClient ??= await new MongoClient((mongo as { url: string }).url).connect();
      const [a, b] = await Promise.all([createMongoWebhookStore({ db: mongoClient.db(name) }), createMongoWebhookStore({ db: other.db(name) })]);
      const e = endpoint();
      const due = Array.from({ length: 60 }, () => delivery(e.id));
      await a.enqueue(due);
      const now = T0 + 1000;
      const claimedBy = new Map<string, string[]>();
      await Promise.all(
        [a, b].flatMap((store, s) =>
          [0, 1, 2].map(async (k) => {
            for (let round = 0; round < 30; round++) {
              const leaseId = `lease-${s}-${k}-${round}`;
              const got = await store.claim(e.id, now, now + 60_000, leaseId, 3);
              for (const d of got) claimedBy.set(d.id, [...(claimedBy.get(d.id) ?? []), leaseId]);
              if (got.length === 0 && claimedBy.size === due.length) return;
            }
          }),
        ),
      );
      expect([...claimedBy.keys()].sort()).toEqual(due.map((d) => d.id).sort());
      expect([...claimedBy.values()].filter((holders) => holders.length > 1)).toEqual([]);
      // The store agrees: each delivery holds the lease of its one claimer.
      for (const [id, [leaseId]] of claimedBy) expect((await a.getDelivery(id as never))?.leaseId).toBe(leaseId);
    } finally {
      await other.close();
    }
  });

  it('refuses to start when the (endpointId, eventId) index is not unique', async () => {
    const db = await openDb();
    await db.collection('webhook_deliveries').createIndex({ endpointId: 1, eventId: 1 }, { name: 'legacy_endpoint_event' });
    const error = await createMongoWebhookStore({ db }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain('legacy_endpoint_event');
  });
});

describe.each(backends)('WebhookStore on $name', (backend) => {
  let store: WebhookStore;
  beforeEach(async (ctx) => {
    if (backend.skip) ctx.skip();
    store = await backend.open();
  });
  afterAll(() => backend.cleanup());

  it('keeps endpoints: insert, get, list by owner, update, count and delete', async () => {
    const a = endpoint({ ownerId: 'sup_a' });
    const b = endpoint({ id: newEndpointId(T0 + 1), ownerId: 'sup_b', createdAt: T0 + 1 });
    await store.insertEndpoint(a);
    await store.insertEndpoint(b);
    expect(await store.getEndpoint(a.id)).toEqual(a);
    expect((await store.listEndpoints()).map((e) => e.id)).toEqual([a.id, b.id]);
    expect((await store.listEndpoints({ ownerId: 'sup_b' })).map((e) => e.id)).toEqual([b.id]);
    expect(await store.countEndpoints('sup_a')).toBe(1);

    const updated = await store.updateEndpoint(a.id, { enabled: false, disabledReason: 'MANUAL', disabledAt: T0 + 5, eventTypes: ['order_created', 'inventory_alert'], description: undefined }, T0 + 5);
    expect(updated).toEqual({ ...a, enabled: false, disabledReason: 'MANUAL', disabledAt: T0 + 5, eventTypes: ['order_created', 'inventory_alert'], updatedAt: T0 + 5 });
    expect(await store.updateEndpoint(a.id, { disabledReason: null, failingSince: null }, T0 + 6)).toMatchObject({ disabledReason: null, failingSince: null });
    expect(await store.updateEndpoint('whe_missing' as EndpointId, { enabled: true }, T0)).toBeNull();

    const d = delivery(a.id);
    await store.enqueue([d]);
    const [claimed] = await store.claim(a.id, d.nextAttemptAt, d.nextAttemptAt + 60_000, 'lease-1', 1);
    await store.complete([{ deliveryId: d.id, endpointId: a.id, leaseId: 'lease-1', update: { status: 'succeeded', attempts: 1, scheduleStep: 1, nextAttemptAt: T0, lastError: null, updatedAt: T0 }, attempt: attempt(claimed!, 1, 200) }]);
    expect(await store.deleteEndpoint(a.id)).toBe(true);
    expect(await store.deleteEndpoint(a.id)).toBe(false);
    expect(await store.getEndpoint(a.id)).toBeNull();
    expect(await store.getDelivery(d.id)).toBeNull();
    expect(await store.listAttempts([d.id])).toEqual([]);
  });

  it('enqueues each (endpoint, event) once and moves the cursor with it', async () => {
    const e = endpoint();
    expect(await store.readCursor()).toBeNull();
    const d = delivery(e.id);
    expect(await store.enqueue([d], 10)).toBe(1);
    expect(await store.readCursor()).toBe(10);
    // The same pair again (a pass repeated after a crash) inserts nothing and keeps the first delivery.
    expect(await store.enqueue([{ ...delivery(e.id), eventId: d.eventId }], 12)).toBe(0);
    expect(await store.readCursor()).toBe(12);
    expect(await store.getDelivery(d.id)).toEqual(d);
    expect(await store.enqueue([], 13)).toBe(0);
    expect(await store.readCursor()).toBe(13);
  });

  it('leases a due delivery to one claim at a time until the lease lapses', async () => {
    const e = endpoint();
    const due = [delivery(e.id), delivery(e.id), delivery(e.id)];
    const later = delivery(e.id, { nextAttemptAt: T0 + 1_000_000 });
    await store.enqueue([...due, later]);
    const now = T0 + 1000;
    expect(await store.dueEndpoints(now, 10)).toEqual([e.id]);

    const [first, second] = await Promise.all([
      store.claim(e.id, now, now + 60_000, 'a', 2),
      store.claim(e.id, now, now + 60_000, 'b', 2),
    ]);
    const ids = [...first, ...second].map((d) => d.id);
    expect(new Set(ids).size).toBe(3);
    expect(ids.sort()).toEqual(due.map((d) => d.id).sort());
    expect([...first, ...second].every((d) => d.leaseUntil === now + 60_000)).toBe(true);
    expect(first.every((d) => d.leaseId === 'a') && second.every((d) => d.leaseId === 'b')).toBe(true);
    expect(await store.claim(e.id, now, now + 60_000, 'c', 5)).toEqual([]);
    expect(await store.dueEndpoints(now, 10)).toEqual([]);

    // After the lease (a crashed worker), the deliveries are claimable again.
    const afterLease = now + 60_001;
    expect((await store.claim(e.id, afterLease, afterLease + 60_000, 'd', 10)).map((d) => d.id).sort()).toEqual(due.map((d) => d.id).sort());
  });

  it('claims oldest due first, within the limit', async () => {
    const e = endpoint();
    const a = delivery(e.id, { nextAttemptAt: T0 + 30 });
    const b = delivery(e.id, { nextAttemptAt: T0 + 10 });
    const c = delivery(e.id, { nextAttemptAt: T0 + 20 });
    await store.enqueue([a, b, c]);
    expect((await store.claim(e.id, T0 + 100, T0 + 1000, 'x', 2)).map((d) => d.id)).toEqual([b.id, c.id]);
  });

  it('records an attempt only under the claim that holds the delivery', async () => {
    const e = endpoint();
    const d = delivery(e.id);
    await store.enqueue([d]);
    const now = T0 + 1000;
    await store.claim(e.id, now, now + 10, 'old', 1);
    await store.claim(e.id, now + 20, now + 1000, 'new', 1);
    const update = (status: 'pending' | 'succeeded', attempts: number) => ({
      status,
      attempts,
      scheduleStep: attempts,
      nextAttemptAt: now + 500,
      lastError: status === 'pending' ? 'HTTP 500' : null,
      updatedAt: now + 30,
    });
    await store.complete([{ deliveryId: d.id, endpointId: e.id, leaseId: 'old', update: update('pending', 1), attempt: attempt(d, 1, 500) }]);
    expect(await store.getDelivery(d.id)).toMatchObject({ status: 'pending', attempts: 0, leaseId: 'new' });
    await store.complete([{ deliveryId: d.id, endpointId: e.id, leaseId: 'new', update: update('succeeded', 2), attempt: attempt(d, 2, 200) }]);
    expect(await store.getDelivery(d.id)).toMatchObject({ status: 'succeeded', attempts: 2, leaseId: null, leaseUntil: 0 });
    expect((await store.listAttempts([d.id])).map((a) => [a.n, a.httpStatus])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    expect((await store.listAttempts([d.id]))[1]).toEqual(attempt(d, 2, 200));
  });

  it('gives released deliveries back at once', async () => {
    const e = endpoint();
    const d = delivery(e.id);
    await store.enqueue([d]);
    const now = T0 + 1000;
    await store.claim(e.id, now, now + 60_000, 'l', 1);
    await store.release([d.id], 'other');
    expect(await store.claim(e.id, now, now + 60_000, 'm', 1)).toEqual([]);
    await store.release([d.id], 'l');
    expect(await store.claim(e.id, now, now + 60_000, 'm', 1)).toHaveLength(1);
  });

  it('requeues finished deliveries, inserts missing ones and leaves pending ones alone', async () => {
    const e = endpoint();
    const done = delivery(e.id);
    const pending = delivery(e.id);
    await store.enqueue([done, pending]);
    const now = T0 + 1000;
    await store.claim(e.id, now, now + 60_000, 'l', 1);
    await store.complete([{ deliveryId: done.id, endpointId: e.id, leaseId: 'l', update: { status: 'failed', attempts: 8, scheduleStep: 8, nextAttemptAt: now, lastError: 'HTTP 500', updatedAt: now }, attempt: attempt(done, 8, 500) }]);
    const fresh = delivery(e.id);
    const queued = await store.requeue([
      { ...done, id: fresh.id.replace(/.$/, 'Z') as WebhookDelivery['id'], nextAttemptAt: now + 5, updatedAt: now + 5 },
      { ...pending, nextAttemptAt: now + 5 },
      fresh,
    ]);
    expect(queued).toBe(2);
    expect(await store.getDelivery(done.id)).toMatchObject({ status: 'pending', attempts: 8, scheduleStep: 0, nextAttemptAt: now + 5, lastError: null });
    expect(await store.getDelivery(pending.id)).toMatchObject({ status: 'pending', nextAttemptAt: pending.nextAttemptAt });
    expect(await store.getDelivery(fresh.id)).toEqual(fresh);
  });

  it('lists deliveries newest first, by status, with keyset pages and their attempts', async () => {
    const e = endpoint();
    const other = endpoint({ id: newEndpointId(T0 + 9) });
    const list = Array.from({ length: 5 }, (_, i) => delivery(e.id, { id: `whd_0000000000000000000000000${i}` as WebhookDelivery['id'] }));
    await store.enqueue([...list, delivery(other.id)]);
    const page1 = await store.listDeliveries({ endpointId: e.id, limit: 2 });
    expect(page1.map((d) => d.id)).toEqual([list[4]!.id, list[3]!.id]);
    const page2 = await store.listDeliveries({ endpointId: e.id, beforeId: page1[1]!.id, limit: 10 });
    expect(page2.map((d) => d.id)).toEqual([list[2]!.id, list[1]!.id, list[0]!.id]);
    expect(await store.listDeliveries({ endpointId: e.id, status: 'failed', limit: 10 })).toEqual([]);
    expect(await store.listAttempts([])).toEqual([]);
  });

  it('purges old finished deliveries with their attempts and keeps pending ones', async () => {
    const e = endpoint();
    const old = delivery(e.id, { createdAt: T0 - 10_000 });
    const oldPending = delivery(e.id, { createdAt: T0 - 10_000 });
    const recent = delivery(e.id, { createdAt: T0 + 10_000 });
    await store.enqueue([old, oldPending, recent]);
    const now = T0 + 100_000;
    const claimed = await store.claim(e.id, now, now + 1000, 'l', 3);
    const finish = (d: WebhookDelivery) => ({ deliveryId: d.id, endpointId: e.id, leaseId: 'l', update: { status: 'succeeded' as const, attempts: 1, scheduleStep: 1, nextAttemptAt: now, lastError: null, updatedAt: now }, attempt: attempt(d, 1, 200) });
    await store.complete(claimed.filter((d) => d.id !== oldPending.id).map(finish));
    expect(await store.purgeBefore(T0)).toBe(1);
    expect(await store.getDelivery(old.id)).toBeNull();
    expect(await store.listAttempts([old.id])).toEqual([]);
    expect(await store.getDelivery(oldPending.id)).not.toBeNull();
    expect(await store.getDelivery(recent.id)).not.toBeNull();
  });

  it(`${backend.name === 'SQLite' ? 'releases' : 'keeps'} leases of an earlier process at start-up`, async () => {
    const e = endpoint();
    const d = delivery(e.id);
    await store.enqueue([d]);
    await store.claim(e.id, T0 + 1000, T0 + 61_000, 'dead-process', 1);
    const released = await store.releaseStaleLeases();
    if (backend.name === 'SQLite') {
      expect(released).toBe(1);
      expect(await store.getDelivery(d.id)).toMatchObject({ leaseUntil: 0, leaseId: null });
    } else {
      expect(released).toBe(0);
      expect(await store.getDelivery(d.id)).toMatchObject({ leaseId: 'dead-process' });
    }
  });
});
