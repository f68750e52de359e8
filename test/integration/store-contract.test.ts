/**
 * The store contract: one `describe` body run against SQLite and against MongoDB (MONGODB_URL, else a
 * throwaway FerretDB). Both get the same deterministic events with fixed timestamps; every EventStore method
 * and every analytics query must give the expected answer on each, and the two stores the same answers as
 * each other. MongoDB-only behaviour (batching, index idempotency, TTL, error redaction) is tested in
 * mongo-event-store.test.ts and at the end of this file.
 */
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalytics, type Analytics } from '../../src/analytics/analytics-service.js';
import type { WithAnalytics } from '../../src/analytics/analytics-store.js';
import { bucketStart } from '../../src/analytics/counters.js';
import type { ErrorInput } from '../../src/analytics/error-store.js';
import { LEVELS, type EventLevel, type EventTypeName, type Role } from '../../src/events/catalogue.js';
import type { EventFilter, EventStore } from '../../src/events/event-store.js';
import type { EventId, HeraldEvent, NewEvent } from '../../src/events/model.js';
import { StoreError } from '../../src/errors.js';
import { createSqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { createMongoEventStore, type MongoEventStore } from '../../src/store/mongo/mongo-event-store.js';
import { startMongoForTests, uniqueDbName, withUrlOptions, type TestMongo } from '../utils/mongo.js';

type Store = EventStore & WithAnalytics;

const mongo = await startMongoForTests();
const mongoSkip = 'skip' in mongo ? mongo.skip : undefined;
if (mongoSkip) console.warn(`store contract: the MongoDB half is skipped. ${mongoSkip}`);
const mongoUrl = 'skip' in mongo ? '' : (mongo as TestMongo).url;
const mongoDbs: string[] = [];

// ---------------------------------------------------------------------------------------------
// The seed: 36 events every 97 minutes from Sunday 2024-01-07 10:30 UTC to Tuesday 20:25 UTC.

const T0 = Date.UTC(2024, 0, 7, 10, 30);
const STEP = 97 * 60_000;
/** The analytics' clock: Wednesday 2024-01-10 00:00 UTC. */
const NOW = Date.UTC(2024, 0, 10);
const HOUR = 3_600_000;

const TYPES: EventTypeName[] = ['order_created', 'payment_failed', 'delivery_accepted', 'location_updated', 'system_alert', 'order_ready', 'payment_completed'];
const USERS = ['alice', 'bob', 'carol', null] as const;
const SOURCES = ['orders-service', 'payments.v2', 'dispatch']; // a dot: counter keys are escaped on MongoDB
const LEVEL_OF: Record<string, EventLevel> = { payment_failed: 'CRITICAL', system_alert: 'CRITICAL', order_created: 'HIGH', order_ready: 'HIGH', location_updated: 'LOW' };

function seedEvent(i: number): NewEvent {
  const type = TYPES[i % TYPES.length]!;
  const userId = USERS[i % USERS.length]!;
  const roles: Role[] = userId === null ? (i % 2 ? ['supplier'] : ['customer', 'delivery_partner']) : [];
  const deliveryId = type === 'delivery_accepted' || type === 'location_updated' ? `dlv_${i % 3}` : null;
  return {
    id: `evt_contract_${String(i).padStart(3, '0')}` as EventId,
    type,
    level: i === 7 ? 'CRITICAL' : (LEVEL_OF[type] ?? 'MEDIUM'),
    userId,
    roles,
    source: SOURCES[i % SOURCES.length]!,
    timestamp: T0 + i * STEP,
    data: { n: i, amount: i * 1.25, nested: { tags: ['a', `t${i}`], ok: i % 2 === 0, none: null }, deliveryId },
    deliveryId,
    idempotencyKey: i % 5 === 0 ? `key-${i}` : null,
  };
}

const SEED = Array.from({ length: 36 }, (_, i) => seedEvent(i));
const withSeq = (event: NewEvent, seq: number): HeraldEvent => ({ ...event, seq });
const STORED = SEED.map((event, i) => withSeq(event, i + 1));
const ids = (events: readonly { id: string }[]) => events.map((e) => e.id);
const idsWhere = (predicate: (e: HeraldEvent) => boolean) => ids(STORED.filter(predicate));

/** Appends the seed in three shapes: one batch, concurrent single appends (group commit), and a batch with duplicates. */
async function seed(store: Store) {
  const first = await store.append(SEED.slice(0, 10));
  const concurrent = await Promise.all(SEED.slice(10, 30).map((event) => store.append([event])));
  const last = await store.append([
    ...SEED.slice(30),
    { ...SEED[30]!, id: 'evt_contract_dup_key' as EventId, data: { other: true } }, // same key as #30
    { ...SEED[3]!, data: { retried: true } }, // same id as #3
  ]);
  return [...first, ...concurrent.flat(), ...last];
}

const ERRORS: ErrorInput[] = [
  { kind: 'validation', source: 'orders-service', message: 'data.amount: expected a number', field: 'data.amount', at: NOW - 30 * 60_000, details: { type: 'order_created' } },
  { kind: 'delivery', source: 'webhooks', message: 'HTTP 503', endpointId: 'ep_1', eventId: 'evt_contract_001', at: NOW - 2 * HOUR, details: { status: 503, 'a.b': 1 } },
  { kind: 'delivery', source: 'webhooks', message: 'timeout', endpointId: 'ep_2', at: NOW - 3 * HOUR },
  { kind: 'processing', source: null, message: 'router failed', at: NOW - 5 * HOUR },
  { kind: 'validation', source: 'payments-service', message: 'source: bad', field: 'source', at: NOW - 30 * HOUR },
];

// ---------------------------------------------------------------------------------------------
// The contract

interface Backend {
  readonly name: 'sqlite' | 'mongodb';
  readonly skip?: string;
  open(): Promise<Store>;
}

const BACKENDS: Backend[] = [
  { name: 'sqlite', open: async () => createSqliteEventStore({ dataDir: ':memory:' }) },
  {
    name: 'mongodb',
    skip: mongoSkip,
    open: async () => {
      const dbName = uniqueDbName();
      mongoDbs.push(dbName);
      return createMongoEventStore({ url: mongoUrl, dbName });
    },
  },
];

/** Every answer each backend gave, by question, for the cross-store comparison at the end. */
const answers: Record<string, Map<string, unknown>> = { sqlite: new Map(), mongodb: new Map() };

function contract(backend: Backend) {
  const opened: Store[] = [];
  const open = async () => {
    const store = await backend.open();
    opened.push(store);
    return store;
  };
  /** Records the answer for the cross-check, then checks it against the expected value. */
  const answer = (question: string, actual: unknown, expected: unknown) => {
    answers[backend.name]!.set(question, actual);
    expect(actual, question).toEqual(expected);
  };

  let store: Store;
  let appended: Awaited<ReturnType<typeof seed>>;
  let analytics: Analytics;

  beforeAll(async () => {
    store = await open();
    appended = await seed(store);
    await store.errors.record(ERRORS);
    analytics = createAnalytics({ events: store, analytics: store.analytics, errors: store.errors, now: () => NOW });
  });

  afterAll(async () => {
    for (const s of opened.splice(0)) await s.close().catch(() => {});
  });

  describe('append', () => {
    it('assigns seq 1..n in append order across batches and concurrent calls', () => {
      answer('append.fresh', appended.slice(0, 36), STORED.map((event) => ({ event, duplicate: false })));
    });

    it('returns the stored event as a duplicate for a repeated idempotency key or id', () => {
      answer('append.duplicates', appended.slice(36), [
        { event: STORED[30], duplicate: true },
        { event: STORED[3], duplicate: true },
      ]);
    });

    it('stores a key once within one batch and across concurrent calls', async () => {
      const fresh = await open();
      const a = seedEvent(100);
      const b = { ...seedEvent(101), idempotencyKey: a.idempotencyKey };
      const results = await fresh.append([a, b]);
      const concurrent = await Promise.all([102, 103, 104].map((i) => fresh.append([{ ...seedEvent(i), idempotencyKey: 'k-concurrent' }])));
      answer('append.keys', { results, concurrent: concurrent.flat().map((r) => [r.event.id, r.duplicate]), last: await fresh.lastSeq() }, {
        results: [
          { event: withSeq(a, 1), duplicate: false },
          { event: withSeq(a, 1), duplicate: true },
        ],
        concurrent: [
          ['evt_contract_102', false],
          ['evt_contract_102', true],
          ['evt_contract_102', true],
        ],
        last: 2,
      });
    });

    it('resolves an empty append with no results', async () => {
      answer('append.empty', await store.append([]), []);
    });
  });

  describe('get', () => {
    it('returns the event with ms timestamp, roles, nested data and nulls restored; null when missing', async () => {
      const found = await Promise.all([0, 3, 7, 35].map((i) => store.get(SEED[i]!.id)));
      answer('get', { found, missing: await store.get('evt_missing' as EventId) }, { found: [0, 3, 7, 35].map((i) => STORED[i]), missing: null });
    });
  });

  describe('list', () => {
    const list = (filter: EventFilter, order: 'ASC' | 'DESC' = 'ASC', limit = 100, afterSeq?: number) =>
      store.list({ filter, order, limit, afterSeq }).then(ids);

    it('lists in seq order both ways, honouring limit', async () => {
      answer(
        'list.order',
        { asc: await list({}), desc: await list({}, 'DESC'), two: await list({}, 'ASC', 2), none: await list({}, 'ASC', 0) },
        { asc: ids(STORED), desc: ids(STORED).reverse(), two: ids(STORED.slice(0, 2)), none: [] },
      );
    });

    it('filters by user, types, levels, sources and delivery, alone and combined', async () => {
      answer(
        'list.filters',
        {
          user: await list({ userId: 'alice' }),
          types: await list({ types: ['payment_failed', 'system_alert'] }),
          noTypes: await list({ types: [] }),
          levels: await list({ levels: ['CRITICAL', 'LOW'] }),
          sources: await list({ sources: ['dispatch'] }),
          delivery: await list({ deliveryId: 'dlv_1' }),
          combined: await list({ userId: 'bob', levels: ['CRITICAL'], sources: ['payments.v2', 'dispatch'] }),
        },
        {
          user: idsWhere((e) => e.userId === 'alice'),
          types: idsWhere((e) => e.type === 'payment_failed' || e.type === 'system_alert'),
          noTypes: [],
          levels: idsWhere((e) => e.level === 'CRITICAL' || e.level === 'LOW'),
          sources: idsWhere((e) => e.source === 'dispatch'),
          delivery: idsWhere((e) => e.deliveryId === 'dlv_1'),
          combined: idsWhere((e) => e.userId === 'bob' && e.level === 'CRITICAL' && e.source !== 'orders-service'),
        },
      );
    });

    it('filters by time: from inclusive, to exclusive', async () => {
      const from = STORED[10]!.timestamp;
      const to = STORED[20]!.timestamp;
      answer(
        'list.time',
        { from: await list({ from }), to: await list({ to }), both: await list({ from, to }, 'DESC') },
        {
          from: idsWhere((e) => e.timestamp >= from),
          to: idsWhere((e) => e.timestamp < to),
          both: idsWhere((e) => e.timestamp >= from && e.timestamp < to).reverse(),
        },
      );
    });

    it('restricts to an audience: its types, addressed to the user or broadcast to its role', async () => {
      const partnerTypes: EventTypeName[] = ['delivery_accepted', 'location_updated', 'order_ready'];
      const sees = (userId: string, role: Role, types: readonly string[]) => (e: HeraldEvent) =>
        types.includes(e.type) && (e.userId === userId || e.roles.includes(role));
      answer(
        'list.audience',
        {
          partner: await list({ audience: { userId: 'alice', role: 'delivery_partner', types: partnerTypes } }),
          narrowed: await list({ types: ['location_updated', 'system_alert'], audience: { userId: 'alice', role: 'delivery_partner', types: partnerTypes } }),
          supplier: await list({ audience: { userId: 'nobody', role: 'supplier', types: ['order_created', 'order_ready'] } }),
          nothing: await list({ audience: { userId: 'alice', role: 'customer', types: [] } }),
        },
        {
          partner: idsWhere(sees('alice', 'delivery_partner', partnerTypes)),
          narrowed: idsWhere(sees('alice', 'delivery_partner', ['location_updated'])),
          supplier: idsWhere(sees('nobody', 'supplier', ['order_created', 'order_ready'])),
          nothing: [],
        },
      );
    });

    it('pages by keyset in both directions without gap or overlap', async () => {
      const walk = async (filter: EventFilter, order: 'ASC' | 'DESC') => {
        const pages: string[][] = [];
        let afterSeq: number | undefined;
        for (let guard = 0; guard < 50; guard++) {
          const page = await store.list({ filter, order, limit: 4, afterSeq });
          if (page.length === 0) break;
          pages.push(ids(page));
          afterSeq = page.at(-1)!.seq;
        }
        return pages;
      };
      const chunk = (all: string[]) => Array.from({ length: Math.ceil(all.length / 4) }, (_, i) => all.slice(i * 4, i * 4 + 4));
      answer(
        'list.keyset',
        {
          asc: await walk({}, 'ASC'),
          desc: await walk({ userId: 'carol' }, 'DESC'),
          middle: await list({}, 'DESC', 3, 10),
          after: await list({}, 'ASC', 3, 10),
        },
        {
          asc: chunk(ids(STORED)),
          desc: chunk(idsWhere((e) => e.userId === 'carol').reverse()),
          middle: ids(STORED.slice(6, 9)).reverse(),
          after: ids(STORED.slice(10, 13)),
        },
      );
    });
  });

  describe('counts', () => {
    it('counts events at or after a time and reports the highest seq', async () => {
      answer(
        'counts',
        {
          since: await store.countSince(STORED[30]!.timestamp),
          after: await store.countSince(STORED[35]!.timestamp + 1),
          all: await store.countSince(0),
          lastSeq: await store.lastSeq(),
        },
        { since: 6, after: 0, all: 36, lastSeq: 36 },
      );
    });

    it('reports 0 as the last seq of an empty log', async () => {
      answer('counts.empty', await (await open()).lastSeq(), 0);
    });
  });

  describe('retention', () => {
    it('purges events before a time, keeps seq moving forward and keeps the daily counters', async () => {
      const fresh = await open();
      await fresh.append(SEED.slice(0, 10));
      const purged = await fresh.purgeBefore(STORED[4]!.timestamp);
      const [next] = await fresh.append([seedEvent(50)]);
      const summary = await createAnalytics({ events: fresh, analytics: fresh.analytics, errors: fresh.errors, now: () => NOW }).summary('2024-01-07');
      answer(
        'retention.purge',
        { purged, gone: await fresh.get(SEED[0]!.id), kept: (await fresh.get(SEED[4]!.id))?.id, again: await fresh.purgeBefore(STORED[4]!.timestamp), next: next!.event.seq, total: summary.total },
        { purged: 4, gone: null, kept: SEED[4]!.id, again: 0, next: 11, total: STORED.filter((e) => e.seq <= 10 && e.timestamp < Date.UTC(2024, 0, 8)).length },
      );
    });

    it('enforces retention with a TTL index where the server has one, else by periodic purge', async () => {
      // A fresh store: on MongoDB a TTL index would expire the seeded (2024) events.
      const fresh = await open();
      const mode = (await fresh.ensureRetention?.(30))?.mode ?? 'purge';
      expect(['ttl', 'purge']).toContain(mode);
      if (backend.name === 'sqlite') expect(mode).toBe('purge');
      expect((await fresh.ensureRetention?.(null))?.mode ?? 'off').toBe('off');
    });
  });

  describe('analytics', () => {
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const countBy = <K extends string>(events: readonly HeraldEvent[], key: (e: HeraldEvent) => K) => {
      const counts = new Map<K, number>();
      for (const e of events) counts.set(key(e), (counts.get(key(e)) ?? 0) + 1);
      return [...counts].map(([k, count]) => ({ k, count })).sort((a, b) => b.count - a.count || (a.k < b.k ? -1 : 1));
    };

    it('summarizes each UTC day by type, source and level, duplicates not counted', async () => {
      const days = ['2024-01-07', '2024-01-08', '2024-01-09', '2024-01-10'];
      const expected = days.map((date) => {
        const events = STORED.filter((e) => day(e.timestamp) === date);
        return {
          date,
          total: events.length,
          byType: countBy(events, (e) => e.type).map(({ k, count }) => ({ type: k, count })),
          bySource: countBy(events, (e) => e.source).map(({ k, count }) => ({ source: k, count })),
          byLevel: LEVELS.map((level) => ({ level, count: events.filter((e) => e.level === level).length })),
        };
      });
      const actual = await Promise.all(days.map((date) => analytics.summary(date)));
      answer('analytics.summary', actual, expected);
      expect(actual.reduce((sum, s) => sum + s.total, 0)).toBe(36);
    });

    it('charts the rate per minute, hour and day with zero buckets filled in', async () => {
      const series = (from: number, to: number, size: number) =>
        Array.from({ length: Math.ceil((to - from) / size) }, (_, i) => {
          const start = from + i * size;
          return { start, count: STORED.filter((e) => e.timestamp >= start && e.timestamp < start + size).length };
        });
      const hourFrom = Date.UTC(2024, 0, 8, 0);
      const hourTo = Date.UTC(2024, 0, 8, 12);
      const minuteFrom = STORED[12]!.timestamp - 5 * 60_000;
      const [minute, hour, days] = await Promise.all([
        analytics.eventRate(minuteFrom, minuteFrom + 10 * 60_000, 'minute'),
        analytics.eventRate(hourFrom + 17 * 60_000, hourTo, 'hour'),
        analytics.eventRate(Date.UTC(2024, 0, 6), Date.UTC(2024, 0, 11), 'day'),
      ]);
      const expectedHours = series(hourFrom, hourTo, HOUR);
      answer(
        'analytics.rate',
        { minute: minute.points, hour: hour.points, days: days.points, hourFrom: hour.from, total: days.total, average: hour.average, p95: hour.p95, peak: days.peak },
        {
          minute: series(minuteFrom, minuteFrom + 10 * 60_000, 60_000),
          hour: expectedHours,
          days: series(Date.UTC(2024, 0, 6), Date.UTC(2024, 0, 11), 24 * HOUR),
          hourFrom,
          total: 36,
          average: expectedHours.reduce((s, p) => s + p.count, 0) / 12,
          p95: Math.max(...expectedHours.map((p) => p.count)),
          peak: { start: Date.UTC(2024, 0, 8), count: STORED.filter((e) => day(e.timestamp) === '2024-01-08').length },
        },
      );
      expect(minute.points.filter((p) => p.count === 1)).toHaveLength(1);
    });

    it("maps each user's events into a 7x24 weekday-by-hour matrix", async () => {
      const heatmaps = await Promise.all(['alice', 'bob', 'carol', 'nobody'].map((user) => analytics.userActivityHeatmap(user, 3)));
      const expected = ['alice', 'bob', 'carol', 'nobody'].map((userId) => {
        const from = NOW - 3 * 24 * HOUR;
        const matrix = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
        const mine = STORED.filter((e) => e.userId === userId && e.timestamp >= from);
        for (const e of mine) matrix[new Date(e.timestamp).getUTCDay()]![new Date(e.timestamp).getUTCHours()]!++;
        return { userId, from, total: mine.length, matrix };
      });
      answer('analytics.heatmap', heatmaps, expected);
      expect(heatmaps[0]!.total).toBeGreaterThan(0);
    });

    it('lists critical events of the last hours newest first, in pages', async () => {
      const first = await analytics.criticalEvents(48, { first: 3 });
      const second = await analytics.criticalEvents(48, { first: 3, afterSeq: first.events.at(-1)!.seq });
      const expected = idsWhere((e) => e.level === 'CRITICAL' && e.timestamp >= NOW - 48 * HOUR).reverse();
      answer(
        'analytics.critical',
        { first: ids(first.events), firstMore: first.hasNextPage, second: ids(second.events) },
        { first: expected.slice(0, 3), firstMore: true, second: expected.slice(3, 6) },
      );
    });

    it("tells a user's timeline oldest first within [from, to), newest first on request", async () => {
      const from = STORED[5]!.timestamp;
      const to = STORED[30]!.timestamp;
      const oldest = await analytics.timeline('bob', { from, to }, { first: 100 });
      const newest = await analytics.timeline('bob', {}, { first: 2, order: 'DESC' });
      answer(
        'analytics.timeline',
        { oldest: ids(oldest.events), more: oldest.hasNextPage, newest: ids(newest.events), newestMore: newest.hasNextPage },
        {
          oldest: idsWhere((e) => e.userId === 'bob' && e.timestamp >= from && e.timestamp < to),
          more: false,
          newest: idsWhere((e) => e.userId === 'bob').reverse().slice(0, 2),
          newestMore: true,
        },
      );
    });

    it('summarizes recorded errors by kind and source with the newest first', async () => {
      const summary = await analytics.errorSummary(24, 3);
      answer(
        'analytics.errors',
        { ...summary, latest: summary.latest.map(({ id: _id, ...rest }) => rest) },
        {
          since: NOW - 24 * HOUR,
          total: 4,
          byKind: [
            { kind: 'validation', count: 1 },
            { kind: 'delivery', count: 2 },
            { kind: 'processing', count: 1 },
          ],
          bySource: [
            { source: 'webhooks', count: 2 },
            { source: null, count: 1 },
            { source: 'orders-service', count: 1 },
          ],
          latest: ERRORS.slice(0, 3).map((e) => ({ field: null, eventId: null, endpointId: null, details: null, ...e })),
        },
      );
      expect(new Set(summary.latest.map((e) => e.id)).size).toBe(3);
    });

    it('purges minute buckets and old errors, keeping hourly and daily counters', async () => {
      const fresh = await open();
      await fresh.append(SEED.slice(0, 12));
      await fresh.errors.record(ERRORS);
      const own = createAnalytics({ events: fresh, analytics: fresh.analytics, errors: fresh.errors, now: () => NOW });
      // Cut 30 s before event #11, inside its hour: minute buckets go exactly up to the cut on both stores.
      const cutoff = STORED[11]!.timestamp - 30_000;
      const purgedErrors = await fresh.errors.purgeBefore(NOW - 4 * HOUR);
      expect(await own.purgeBefore(cutoff)).toBeGreaterThan(0);
      const survivors = await own.eventRate(STORED[9]!.timestamp - HOUR, STORED[11]!.timestamp + HOUR, 'minute');
      const minutes = await own.eventRate(STORED[0]!.timestamp, STORED[0]!.timestamp + 60_000, 'minute');
      const hours = await own.eventRate(STORED[0]!.timestamp, STORED[0]!.timestamp + HOUR, 'hour');
      const errors = await own.errorSummary(24 * 90, 10);
      answer(
        'analytics.purge',
        { purgedErrors, minute: minutes.total, survivors: survivors.points.filter((p) => p.count > 0), hour: hours.total, day: (await own.summary('2024-01-07')).total, errors: errors.total },
        {
          purgedErrors: 2,
          minute: 0,
          survivors: [{ start: bucketStart(STORED[11]!.timestamp, 'minute'), count: 1 }],
          hour: 1,
          day: STORED.slice(0, 12).filter((e) => day(e.timestamp) === '2024-01-07').length,
          errors: 3,
        },
      );
    });
  });

  describe('close', () => {
    it('rejects calls after close with a StoreError', async () => {
      const fresh = await open();
      await fresh.append([seedEvent(60)]);
      await fresh.close();
      await expect(fresh.append([seedEvent(61)])).rejects.toBeInstanceOf(StoreError);
      await expect(fresh.lastSeq()).rejects.toBeInstanceOf(StoreError);
      await expect(fresh.list({ filter: {}, order: 'ASC', limit: 1 })).rejects.toBeInstanceOf(StoreError);
    });
  });
}

for (const backend of BACKENDS) {
  if (backend.skip) describe.skip(`store contract: ${backend.name} (${backend.skip})`, () => contract(backend));
  else describe(`store contract: ${backend.name}`, () => contract(backend));
}

describe.skipIf(mongoSkip !== undefined)('store contract: SQLite and MongoDB agree', () => {
  it('gives identical answers to every question', () => {
    const sqlite = answers['sqlite']!;
    const mongodb = answers['mongodb']!;
    expect(sqlite.size).toBeGreaterThan(15);
    expect([...mongodb.keys()].sort()).toEqual([...sqlite.keys()].sort());
    for (const [question, answer] of sqlite) expect(mongodb.get(question), question).toEqual(answer);
  });
});

// ---------------------------------------------------------------------------------------------
// MongoDB only: the analytics collections' indexes and write batching.

describe.skipIf(mongoSkip !== undefined)('MongoDB analytics collections', () => {
  const stores: MongoEventStore[] = [];
  afterAll(async () => {
    for (const store of stores) await store.close().catch(() => {});
  });

  it('creates the event_analytics and event_errors indexes idempotently', async () => {
    const dbName = uniqueDbName();
    mongoDbs.push(dbName);
    for (let i = 0; i < 3; i++) stores.push(await createMongoEventStore({ url: mongoUrl, dbName }));
    const db = stores.at(-1)!.db;
    const names = async (collection: string) => (await db.collection(collection).listIndexes().toArray()).map((index) => index.name).sort();
    expect(await names('event_analytics')).toEqual(['_id_', 'kind_1_start_1']);
    expect(await names('event_errors')).toEqual(['_id_', 'at_1']);
  });

  it('updates the counters with one bulk write per appended batch, after the insert', async () => {
    const dbName = uniqueDbName();
    mongoDbs.push(dbName);
    const store = await createMongoEventStore({ url: withUrlOptions(mongoUrl, { monitorCommands: 'true' }), dbName });
    stores.push(store);
    const commands: CommandStartedEvent[] = [];
    store.db.client.on('commandStarted', (event) => commands.push(event));
    await Promise.all(SEED.map((event) => store.append([event])));
    const names = commands.map((c) => `${c.commandName}:${String(c.command[c.commandName])}`);
    const inserts = names.filter((n) => n === 'insert:event_logs').length;
    const updates = names.filter((n) => n === 'update:event_analytics').length;
    expect(inserts).toBeGreaterThan(0);
    expect(inserts).toBeLessThanOrEqual(2);
    expect(updates).toBe(inserts);
    expect(names.indexOf('update:event_analytics')).toBeGreaterThan(names.indexOf('insert:event_logs'));
    expect((await createAnalytics({ events: store, analytics: store.analytics, errors: store.errors }).summary('2024-01-08')).total).toBe(
      STORED.filter((e) => new Date(e.timestamp).toISOString().startsWith('2024-01-08')).length,
    );
  });
});

afterAll(async () => {
  if (mongoSkip) return;
  // With MONGODB_URL the server outlives the tests: drop every database they made.
  const client = new MongoClient(mongoUrl);
  try {
    for (const name of mongoDbs) await client.db(name).dropDatabase();
  } finally {
    await client.close();
    await (mongo as TestMongo).stop();
  }
});
