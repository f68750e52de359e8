/**
 * The ReadStateStore contract, one body run on SQLite and on MongoDB (MONGODB_URL, else a throwaway FerretDB), as
 * store-contract.test.ts does for the event log: marks upsert field by field, positions only move forward and drop
 * the marks they make redundant, readers are kept apart, changes are listed for polling instances, retention purges.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import type { EventId, LogPosition } from '../../src/events/model.js';
import type { MarkChange, ReaderKey, ReadStateStore } from '../../src/notifications/read-state-store.js';
import { readerKeyOf } from '../../src/notifications/read-state-store.js';
import { createSqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { createSqliteReadStateStore } from '../../src/store/sqlite/sqlite-read-state-store.js';
import { createMongoReadStateStore } from '../../src/store/mongo/mongo-read-state-store.js';
import { startMongoForTests, uniqueDbName, withDbName, type TestMongo } from '../utils/mongo.js';

const mongo = await startMongoForTests();
const mongoSkip = 'skip' in mongo ? mongo.skip : undefined;
if (mongoSkip) console.warn(`read-state store contract: the MongoDB half is skipped. ${mongoSkip}`);

interface Backend {
  readonly name: string;
  readonly skip?: string;
  open(): Promise<{ store: ReadStateStore; close(): Promise<void> }>;
}

const clients: MongoClient[] = [];
const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    async open() {
      const events = createSqliteEventStore({ dataDir: ':memory:' });
      const db = (events as unknown as { db: import('better-sqlite3').Database }).db;
      return { store: createSqliteReadStateStore(db), close: () => events.close() };
    },
  },
  {
    name: 'mongodb',
    skip: mongoSkip,
    async open() {
      const client = new MongoClient(withDbName((mongo as TestMongo).url, uniqueDbName()));
      clients.push(client);
      await client.connect();
      return { store: await createMongoReadStateStore(client.db()), close: () => client.db().dropDatabase().then(() => undefined) };
    },
  },
];

afterAll(async () => {
  for (const client of clients) await client.close();
  if (!mongoSkip) await (mongo as TestMongo).stop();
});

const pos = (n: number) => n as LogPosition;
const change = (n: number, patch: Pick<MarkChange, 'read' | 'archived'> = {}): MarkChange => ({
  eventId: `evt_rs_${n}` as EventId,
  position: pos(n),
  timestamp: 1_000 * n,
  ...patch,
});
const A = readerKeyOf({ role: 'customer', userId: 'alice' });
const B = readerKeyOf({ role: 'customer', userId: 'bob' });
const A_ADMIN = readerKeyOf({ role: 'admin', userId: 'alice' });

/** Marks as sorted plain tuples [position, read, archived]. */
async function marksOf(store: ReadStateStore, key: ReaderKey, after: number | null = null) {
  return (await store.marksAfter(key, after === null ? null : pos(after)))
    .map((m) => [m.position, m.read, m.archived, m.eventId, m.timestamp] as const)
    .sort((x, y) => x[0] - y[0]);
}

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip !== undefined)(`ReadStateStore on ${backend.name}`, () => {
    it('starts empty for every reader', async () => {
      const { store, close } = await backend.open();
      try {
        expect(await store.get(A)).toEqual({ readThrough: null, clearedThrough: null, updatedAt: null });
        expect(await store.marksAfter(A, null)).toEqual([]);
        expect(await store.changedSince(0)).toEqual([]);
      } finally {
        await close();
      }
    });

    it('upserts marks field by field and keeps readers (and roles of one user) apart', async () => {
      const { store, close } = await backend.open();
      try {
        await store.mark(A, [change(1, { read: true }), change(2, { archived: true }), change(3, { read: false })], 100);
        await store.mark(A, [change(2, { read: true }), change(1, { archived: true })], 101);
        await store.mark(B, [change(1, { read: false })], 102);
        expect(await marksOf(store, A)).toEqual([
          [1, true, true, 'evt_rs_1', 1000],
          [2, true, true, 'evt_rs_2', 2000],
          [3, false, false, 'evt_rs_3', 3000],
        ]);
        expect(await marksOf(store, A, 1)).toEqual([
          [2, true, true, 'evt_rs_2', 2000],
          [3, false, false, 'evt_rs_3', 3000],
        ]);
        expect(await marksOf(store, B)).toEqual([[1, false, false, 'evt_rs_1', 1000]]);
        expect(await marksOf(store, A_ADMIN)).toEqual([]);
        expect(await store.get(A)).toEqual({ readThrough: null, clearedThrough: null, updatedAt: 101 });
        // An empty change only touches updatedAt.
        await store.mark(A, [], 150);
        expect((await store.get(A)).updatedAt).toBe(150);
      } finally {
        await close();
      }
    });

    it('moves positions forward only, dropping the marks they make redundant', async () => {
      const { store, close } = await backend.open();
      try {
        await store.mark(A, [change(1, { read: false }), change(2, { read: true }), change(3, { archived: true, read: false }), change(6, { read: true }), change(8, { archived: true })], 10);
        await store.advance(A, { readThrough: pos(5) }, 11);
        expect(await store.get(A)).toEqual({ readThrough: 5, clearedThrough: null, updatedAt: 11 });
        // At or before readThrough: plain marks gone, archived ones kept with `read` reset; after it: untouched.
        expect((await marksOf(store, A)).map(([p, read, archived]) => [p, read, archived])).toEqual([
          [3, null, true],
          [6, true, false],
          [8, null, true],
        ]);
        await store.advance(A, { readThrough: pos(2) }, 12);
        expect(await store.get(A)).toEqual({ readThrough: 5, clearedThrough: null, updatedAt: 12 });
        await store.advance(A, { clearedThrough: pos(6) }, 13);
        expect(await store.get(A)).toEqual({ readThrough: 5, clearedThrough: 6, updatedAt: 13 });
        expect((await marksOf(store, A)).map(([p]) => p)).toEqual([8]);
        await store.advance(A, { clearedThrough: pos(1), readThrough: pos(9) }, 14);
        expect(await store.get(A)).toEqual({ readThrough: 9, clearedThrough: 6, updatedAt: 14 });
        expect((await marksOf(store, A)).map(([p, read, archived]) => [p, read, archived])).toEqual([[8, null, true]]);
        expect(await store.get(B)).toEqual({ readThrough: null, clearedThrough: null, updatedAt: null });
      } finally {
        await close();
      }
    });

    it('lists readers changed since a time and purges marks past retention', async () => {
      const { store, close } = await backend.open();
      try {
        await store.mark(A, [change(1, { read: true }), change(5, { read: true })], 1_000);
        await store.advance(B, { readThrough: pos(3) }, 2_000);
        await store.mark(A_ADMIN, [change(9, { archived: true })], 3_000);
        const changed = (await store.changedSince(2_000)).map((c) => [c.key, c.updatedAt]).sort();
        expect(changed).toEqual([
          [A_ADMIN, 3_000],
          [B, 2_000],
        ]);
        expect(await store.purgeBefore(5_000)).toBe(1);
        expect((await marksOf(store, A)).map(([p]) => p)).toEqual([5]);
        expect((await marksOf(store, A_ADMIN)).map(([p]) => p)).toEqual([9]);
      } finally {
        await close();
      }
    });
  });
}
