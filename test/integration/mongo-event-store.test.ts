import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import type { EventFilter } from '../../src/events/event-store.js';
import type { EventId, HeraldEvent, NewEvent } from '../../src/events/model.js';
import {
  createMongoEventStore,
  supportsTtlIndexes,
  type MongoEventStore,
  type MongoEventStoreOptions,
} from '../../src/store/mongo/mongo-event-store.js';
import { startMongoForTests, uniqueDbName, withUrlOptions } from '../utils/mongo.js';

const mongo = await startMongoForTests();
const skip = 'skip' in mongo ? mongo.skip : undefined;
if (skip) console.warn(skip);

// Sunday 2024-01-07 10:30 UTC.
const T0 = Date.UTC(2024, 0, 7, 10, 30);
let counter = 0;

function newEvent(overrides: Partial<NewEvent> = {}): NewEvent {
  counter++;
  return {
    id: `evt_test_${counter}` as EventId,
    type: 'order_created',
    level: 'HIGH',
    userId: 'user_1',
    roles: [],
    source: 'orders-service',
    timestamp: T0 + counter * 1000,
    data: { orderId: `order_${counter}`, total: 12.5, items: [{ sku: 'a', qty: 2 }] },
    deliveryId: null,
    idempotencyKey: null,
    ...overrides,
  };
}

const withSeq = (event: NewEvent, seq: number): HeraldEvent => ({ ...event, seq });
const seqs = (events: readonly { seq: number }[]) => events.map((event) => event.seq);

describe.skipIf(skip !== undefined)('MongoDB event store', () => {
  const { url, stop } = mongo as Exclude<typeof mongo, { skip: string }>;
  let admin: MongoClient;
  let isFerretDb = false;
  const stores: MongoEventStore[] = [];
  const dbNames = new Set<string>();

  /** Opens a store on a fresh database (or `dbName`); closed and dropped after each test. */
  async function open(options: Partial<MongoEventStoreOptions> = {}): Promise<MongoEventStore> {
    const dbName = options.dbName ?? uniqueDbName();
    dbNames.add(dbName);
    const store = await createMongoEventStore({ url, ...options, dbName });
    stores.push(store);
    return store;
  }

  /** A store whose `insert` commands are counted (driver command monitoring). */
  async function openCounting(options: Partial<MongoEventStoreOptions> = {}) {
    const store = await open({ ...options, url: withUrlOptions(url, { monitorCommands: 'true' }) });
    const commands: CommandStartedEvent[] = [];
    store.db.client.on('commandStarted', (event) => commands.push(event));
    const inserts = () => commands.filter((c) => c.commandName === 'insert' && c.command.insert === 'event_logs').length;
    return { store, commands, inserts };
  }

  beforeAll(async () => {
    admin = new MongoClient(url);
    await admin.connect();
    const info = await admin.db('admin').command({ buildInfo: 1 });
    isFerretDb = typeof info.ferretdbVersion === 'string';
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const name of dbNames) await admin.db(name).dropDatabase();
    dbNames.clear();
  });

  afterAll(async () => {
    await admin?.close();
    await stop();
  });

  describe('append', () => {
    it('assigns strictly increasing seq from 1 and returns the events as published', async () => {
      const store = await open();
      const events = [newEvent(), newEvent({ userId: null, roles: ['admin', 'supplier'] }), newEvent()];
      const results = await store.append(events);
      expect(results).toEqual(events.map((event, i) => ({ event: withSeq(event, i + 1), duplicate: false })));
      const more = await store.append([newEvent()]);
      expect(more[0]!.event.seq).toBe(4);
    });

    it('resolves an empty append without a round trip', async () => {
      const { store, inserts } = await openCounting();
      expect(await store.append([])).toEqual([]);
      expect(inserts()).toBe(0);
    });

    it('stores one document per event with UTC time buckets and no idempotencyKey field when null', async () => {
      const store = await open();
      const keyed = newEvent({ idempotencyKey: 'key-1', deliveryId: 'dlv_1' });
      const plain = newEvent();
      await store.append([keyed, plain]);
      const docs = await store.db.collection('event_logs').find().sort({ seq: 1 }).toArray();
      expect(docs).toHaveLength(2);
      expect(docs[0]).toMatchObject({
        _id: keyed.id,
        seq: 1,
        type: 'order_created',
        level: 'HIGH',
        userId: 'user_1',
        roles: [],
        source: 'orders-service',
        timestamp: new Date(keyed.timestamp),
        data: keyed.data,
        deliveryId: 'dlv_1',
        idempotencyKey: 'key-1',
        day: '2024-01-07',
        hour: 10,
        weekday: 0,
      });
      expect(docs[1]).not.toHaveProperty('idempotencyKey');
    });

    it('coalesces 200 concurrent appends into few insert round trips, seq in call order', async () => {
      const { store, inserts } = await openCounting();
      const events = Array.from({ length: 200 }, () => newEvent());
      const results = await Promise.all(events.map((event) => store.append([event])));
      const assigned = results.map(([result]) => result!.event.seq);
      expect(new Set(assigned).size).toBe(200);
      for (let i = 1; i < assigned.length; i++) expect(assigned[i]).toBeGreaterThan(assigned[i - 1]!);
      expect(results.map(([result]) => result!.event.id)).toEqual(events.map((event) => event.id));
      expect(inserts()).toBeLessThanOrEqual(2);
      expect(await store.lastSeq()).toBe(200);
    });

    it('puts appends that arrive while a batch is in flight into the next batch', async () => {
      const { store, inserts } = await openCounting();
      const late: Promise<unknown>[] = [];
      // The first batch's seq reservation is on the wire: queue 50 more appends right then.
      store.db.client.once('commandStarted', () => {
        for (let i = 0; i < 50; i++) late.push(store.append([newEvent()]));
      });
      const [first] = await store.append([newEvent()]);
      await Promise.all(late);
      expect(first!.event.seq).toBe(1);
      expect(inserts()).toBe(2);
      expect(await store.lastSeq()).toBe(51);
    });

    it('splits batches at maxBatch', async () => {
      const { store, inserts } = await openCounting({ maxBatch: 50 });
      await Promise.all(Array.from({ length: 200 }, () => store.append([newEvent()])));
      expect(inserts()).toBe(4);
      const big = await store.append(Array.from({ length: 120 }, () => newEvent()));
      expect(seqs(big.map((r) => r.event))).toEqual(Array.from({ length: 120 }, (_, i) => 201 + i));
      expect(inserts()).toBe(7);
    });

    it('stores an idempotency key once and returns the stored event as a duplicate', async () => {
      const store = await open();
      const first = newEvent({ idempotencyKey: 'pay-42' });
      const [a] = await store.append([first]);
      const [b] = await store.append([newEvent({ idempotencyKey: 'pay-42', data: { other: true } })]);
      expect(a).toEqual({ event: withSeq(first, 1), duplicate: false });
      expect(b).toEqual({ event: withSeq(first, 1), duplicate: true });
      expect(await store.db.collection('event_logs').countDocuments({ idempotencyKey: 'pay-42' })).toBe(1);
      expect(await store.lastSeq()).toBe(1);
    });

    it('treats a repeated key within one batch as a duplicate of its first occurrence', async () => {
      const store = await open();
      const first = newEvent({ idempotencyKey: 'k' });
      const results = await store.append([first, newEvent(), newEvent({ idempotencyKey: 'k' })]);
      expect(results.map((r) => r.duplicate)).toEqual([false, false, true]);
      expect(results[2]!.event).toEqual(withSeq(first, 1));
      // Coalesced calls with the same key: one stored.
      const concurrent = await Promise.all(
        Array.from({ length: 10 }, () => store.append([newEvent({ idempotencyKey: 'k2' })])),
      );
      expect(concurrent.filter(([r]) => !r!.duplicate)).toHaveLength(1);
      expect(new Set(concurrent.map(([r]) => r!.event.id)).size).toBe(1);
      expect(await store.db.collection('event_logs').countDocuments()).toBe(3);
    });

    it('returns the stored event when an id is appended again, and still writes the rest of the batch', async () => {
      const store = await open();
      const original = newEvent();
      await store.append([original]);
      const after = newEvent();
      const results = await store.append([{ ...original, data: { changed: true } }, after]);
      expect(results[0]).toEqual({ event: withSeq(original, 1), duplicate: true });
      expect(results[1]!.duplicate).toBe(false);
      expect(results[1]!.event.seq).toBeGreaterThan(1);
      expect(await store.get(after.id)).toEqual(results[1]!.event);
    });

    it('stores a key once when two stores race on it', async () => {
      const dbName = uniqueDbName();
      const [a, b] = [await open({ dbName }), await open({ dbName })];
      for (let i = 0; i < 20; i++) {
        const [[ra], [rb]] = await Promise.all([
          a.append([newEvent({ idempotencyKey: `race-${i}` })]),
          b.append([newEvent({ idempotencyKey: `race-${i}` })]),
        ]);
        expect([ra!.duplicate, rb!.duplicate].filter((d) => !d)).toHaveLength(1);
        expect(ra!.event).toEqual(rb!.event);
      }
      expect(await a.db.collection('event_logs').countDocuments()).toBe(20);
    });

    it('realigns the seq counter when it falls behind the log', async () => {
      const dbName = uniqueDbName();
      const store = await open({ dbName });
      await store.append([newEvent(), newEvent(), newEvent()]);
      await store.db.collection('counters').deleteMany({});
      const [next] = await store.append([newEvent()]);
      expect(next!.event.seq).toBe(4);
      await store.db.collection<{ _id: string; value: number }>('counters').updateOne({ _id: 'event_seq' }, { $set: { value: 1 } });
      const reopened = await open({ dbName });
      const [after] = await reopened.append([newEvent()]);
      expect(after!.event.seq).toBe(5);
    });

    it('rejects only the call whose event the server refuses', async (ctx) => {
      // FerretDB refuses dotted field names; MongoDB >= 5 accepts them, so there is nothing to refuse.
      if (!isFerretDb) ctx.skip();
      const store = await open();
      const good = newEvent();
      const [bad, ok] = await Promise.allSettled([
        store.append([newEvent({ data: { 'a.b': 1 } })]),
        store.append([good]),
      ]);
      expect(bad.status).toBe('rejected');
      expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
      expect(((bad as PromiseRejectedResult).reason as StoreError).cause).toBeInstanceOf(Error);
      expect(ok.status).toBe('fulfilled');
      expect(await store.get(good.id)).not.toBeNull();
    });

    it('rejects appends after close with a StoreError', async () => {
      const store = await open();
      await store.close();
      await expect(store.append([newEvent()])).rejects.toBeInstanceOf(StoreError);
      await expect(store.lastSeq()).rejects.toBeInstanceOf(StoreError);
    });

    it('finishes queued appends before close resolves', async () => {
      const dbName = uniqueDbName();
      const store = await open({ dbName });
      const pending = Array.from({ length: 30 }, () => store.append([newEvent()]));
      await store.close();
      await Promise.all(pending);
      const reopened = await open({ dbName });
      expect(await reopened.lastSeq()).toBe(30);
    });
  });

  describe('get', () => {
    it('returns the stored event with ms timestamp, arrays, objects and nulls restored', async () => {
      const store = await open();
      const event = newEvent({ userId: null, roles: ['delivery_partner'], idempotencyKey: null, deliveryId: null });
      await store.append([event]);
      expect(await store.get(event.id)).toEqual(withSeq(event, 1));
      expect(await store.get('evt_missing' as EventId)).toBeNull();
    });
  });

  describe('list', () => {
    async function seeded() {
      const store = await open();
      const events = [
        newEvent({ userId: 'alice', type: 'order_created', level: 'HIGH', source: 'orders-service' }),
        newEvent({ userId: 'bob', type: 'payment_completed', level: 'MEDIUM', source: 'payments-service' }),
        newEvent({ userId: null, roles: ['delivery_partner'], type: 'delivery_accepted', level: 'LOW', source: 'dispatch', deliveryId: 'dlv_1' }),
        newEvent({ userId: 'alice', type: 'delivery_picked_up', level: 'CRITICAL', source: 'dispatch', deliveryId: 'dlv_1' }),
        newEvent({ userId: null, roles: ['admin'], type: 'system_alert', level: 'CRITICAL', source: 'monitor' }),
        newEvent({ userId: 'carol', roles: ['supplier'], type: 'inventory_alert', level: 'LOW', source: 'inventory' }),
      ];
      const stored = (await store.append(events)).map((r) => r.event);
      const list = (filter: EventFilter, order: 'ASC' | 'DESC' = 'ASC', limit = 100) =>
        store.list({ filter, order, limit }).then((found) => found.map((event) => event.id));
      const ids = (...indexes: number[]) => indexes.map((i) => stored[i]!.id);
      return { store, stored, list, ids };
    }

    it('returns everything in seq order without a filter', async () => {
      const { list, ids, stored } = await seeded();
      expect(await list({})).toEqual(ids(0, 1, 2, 3, 4, 5));
      expect(await list({}, 'DESC')).toEqual(ids(5, 4, 3, 2, 1, 0));
      expect(await list({}, 'ASC', 2)).toEqual(ids(0, 1));
      expect(await list({}, 'ASC', 0)).toEqual([]);
      expect(stored.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it('filters by user, types, levels, sources and delivery', async () => {
      const { list, ids } = await seeded();
      expect(await list({ userId: 'alice' })).toEqual(ids(0, 3));
      expect(await list({ types: ['payment_completed', 'system_alert'] })).toEqual(ids(1, 4));
      expect(await list({ types: [] })).toEqual([]);
      expect(await list({ levels: ['CRITICAL'] })).toEqual(ids(3, 4));
      expect(await list({ sources: ['dispatch', 'inventory'] })).toEqual(ids(2, 3, 5));
      expect(await list({ deliveryId: 'dlv_1' })).toEqual(ids(2, 3));
      expect(await list({ userId: 'alice', levels: ['HIGH'] })).toEqual(ids(0));
    });

    it('filters by time: from inclusive, to exclusive', async () => {
      const { list, ids, stored } = await seeded();
      expect(await list({ from: stored[2]!.timestamp })).toEqual(ids(2, 3, 4, 5));
      expect(await list({ to: stored[2]!.timestamp })).toEqual(ids(0, 1));
      expect(await list({ from: stored[1]!.timestamp, to: stored[4]!.timestamp })).toEqual(ids(1, 2, 3));
    });

    it('restricts to what an audience may receive: its types, addressed to the user or one of its role', async () => {
      const { list, ids } = await seeded();
      const partner = {
        userId: 'alice',
        role: 'delivery_partner' as const,
        types: ['delivery_accepted', 'delivery_picked_up', 'order_created'] as const,
      };
      expect(await list({ audience: { ...partner, types: [...partner.types] } })).toEqual(ids(0, 2, 3));
      // Requested types are intersected with the audience's.
      expect(
        await list({ types: ['delivery_accepted', 'system_alert'], audience: { ...partner, types: [...partner.types] } }),
      ).toEqual(ids(2));
      expect(await list({ audience: { userId: 'nobody', role: 'supplier', types: ['inventory_alert'] } })).toEqual(ids(5));
      expect(await list({ audience: { userId: 'alice', role: 'customer', types: [] } })).toEqual([]);
    });

    it('pages by keyset in both directions without overlap or gap', async () => {
      const store = await open();
      const all = (await store.append(Array.from({ length: 25 }, (_, i) => newEvent({ userId: i % 2 ? 'odd' : 'even' }))))
        .map((r) => r.event);
      for (const order of ['ASC', 'DESC'] as const) {
        for (const filter of [{}, { userId: 'odd' }] as EventFilter[]) {
          const pages: HeraldEvent[][] = [];
          let afterSeq: number | undefined;
          for (;;) {
            const page = await store.list({ filter, order, limit: 4, afterSeq });
            if (page.length === 0) break;
            pages.push(page);
            afterSeq = page.at(-1)!.seq;
          }
          const expected = all.filter((event) => !filter.userId || event.userId === filter.userId);
          if (order === 'DESC') expected.reverse();
          expect(pages.flat().map((event) => event.seq)).toEqual(seqs(expected));
          expect(pages.slice(0, -1).every((page) => page.length === 4)).toBe(true);
        }
      }
      expect(seqs(await store.list({ filter: {}, order: 'DESC', limit: 3, afterSeq: 10 }))).toEqual([9, 8, 7]);
      expect(seqs(await store.list({ filter: {}, order: 'ASC', limit: 3, afterSeq: 10 }))).toEqual([11, 12, 13]);
    });
  });

  describe('counts and retention', () => {
    it('counts events at or after a time', async () => {
      const store = await open();
      const events = (await store.append([newEvent(), newEvent(), newEvent()])).map((r) => r.event);
      expect(await store.countSince(events[1]!.timestamp)).toBe(2);
      expect(await store.countSince(events[2]!.timestamp + 1)).toBe(0);
      expect(await store.countSince(0)).toBe(3);
    });

    it('reports the highest seq, 0 when empty', async () => {
      const store = await open();
      expect(await store.lastSeq()).toBe(0);
      await store.append([newEvent(), newEvent()]);
      expect(await store.lastSeq()).toBe(2);
    });

    it('purges events older than a time and keeps the seq moving forward', async () => {
      const store = await open();
      const events = (await store.append([newEvent(), newEvent(), newEvent()])).map((r) => r.event);
      expect(await store.purgeBefore(events[2]!.timestamp)).toBe(2);
      expect(await store.get(events[0]!.id)).toBeNull();
      expect(await store.get(events[2]!.id)).not.toBeNull();
      expect(await store.purgeBefore(events[2]!.timestamp)).toBe(0);
      const [next] = await store.append([newEvent()]);
      expect(next!.event.seq).toBe(4);
    });

    it('probes TTL support: none on FerretDB', async () => {
      const store = await open();
      expect(await supportsTtlIndexes(store.db)).toBe(!isFerretDb);
      const collections = await store.db.listCollections().toArray();
      expect(collections.filter((c) => c.name.startsWith('herald_ttl_probe'))).toEqual([]);
    });

    it('chooses TTL retention where supported, periodic purge otherwise', async () => {
      const store = await open();
      expect(await store.ensureRetention(30)).toEqual({ mode: isFerretDb ? 'purge' : 'ttl' });
      expect(await store.ensureRetention(7)).toEqual({ mode: isFerretDb ? 'purge' : 'ttl' });
      const ttl = async () =>
        (await store.db.collection('event_logs').listIndexes().toArray()).find((index) => index.name === 'timestamp_1')
          ?.expireAfterSeconds;
      expect(await ttl()).toBe(isFerretDb ? undefined : 7 * 86_400);
      expect(await store.ensureRetention(null)).toEqual({ mode: 'off' });
      expect(await ttl()).toBeUndefined();
      await expect(store.ensureRetention(0)).rejects.toBeInstanceOf(RangeError);
    });
  });

  describe('start-up', () => {
    const expectedIndexes = [
      'seq_1',
      'timestamp_1',
      'type_1',
      'userId_1',
      'source_1',
      'timestamp_1_type_1',
      'userId_1_timestamp_1',
      'userId_1_seq_1',
      'deliveryId_1_seq_1',
      'roles_1_seq_1',
      'idempotencyKey_unique',
    ];

    it('creates its indexes idempotently', async () => {
      const dbName = uniqueDbName();
      await open({ dbName });
      await open({ dbName });
      const third = await open({ dbName });
      const indexes = await third.db.collection('event_logs').listIndexes().toArray();
      expect(indexes.map((index) => index.name).sort()).toEqual(['_id_', ...expectedIndexes].sort());
      expect(indexes.find((index) => index.name === 'seq_1')?.unique).toBe(true);
      expect(indexes.find((index) => index.name === 'idempotencyKey_unique')?.unique).toBe(true);
    });

    it('refuses to start on a log whose seq index is not unique (positions would not be arbitrated)', async () => {
      const dbName = uniqueDbName();
      const client = new MongoClient(url);
      try {
        await client.db(dbName).collection('event_logs').createIndex({ seq: 1 }, { name: 'legacy_seq' });
        await expect(createMongoEventStore({ url, dbName })).rejects.toThrow(/event_logs\.seq exists but is not unique/);
      } finally {
        await client.db(dbName).dropDatabase().catch(() => {});
        await client.close();
      }
    });

    it('keeps events and continues seq after a restart', async () => {
      const dbName = uniqueDbName();
      const first = await open({ dbName });
      const before = (await first.append([newEvent({ idempotencyKey: 'once' }), newEvent()])).map((r) => r.event);
      await first.close();
      const second = await open({ dbName });
      expect(await second.get(before[0]!.id)).toEqual(before[0]);
      expect(await second.lastSeq()).toBe(2);
      const [dup, fresh] = await second.append([newEvent({ idempotencyKey: 'once' }), newEvent()]);
      expect(dup).toEqual({ event: before[0], duplicate: true });
      expect(fresh!.event.seq).toBe(3);
    });

    it('uses the database named in the URL when no dbName is given', async () => {
      const store = await createMongoEventStore({ url });
      stores.push(store);
      dbNames.add(store.db.databaseName);
      expect(url.split('?')[0]!.endsWith(`/${store.db.databaseName}`)).toBe(true);
    });

    it('surfaces driver errors as StoreError without the URL or its credentials', async () => {
      const port = await closedPort();
      const secretUrl = `mongodb://herald:s3cret-pa55@127.0.0.1:${port}/herald?serverSelectionTimeoutMS=300`;
      const error = await createMongoEventStore({ url: secretUrl }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      const storeError = error as StoreError;
      expect(storeError.code).toBe('STORE_UNAVAILABLE');
      expect(storeError.cause).toBeInstanceOf(Error);
      expect(storeError.message).not.toContain('s3cret-pa55');
      expect(storeError.message).not.toContain(secretUrl);
      expect(storeError.message).not.toContain('herald:');
    });
  });
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
    });
  });
}
