/**
 * Bytes per event, for sizing (docs/operations.md): `npm run bench -- event-size [--events 20000]`.
 * - MongoDB: the BSON size of each catalogue type's `event_logs` document, built by the store's own mapping
 *   (src/store/mongo/event-docs.ts) from the catalogue's example payload, and of its index keys. Computed, not
 *   measured: WiredTiger compresses documents (snappy) and prefix-compresses index keys on disk, so this is an upper
 *   bound of the data before compression; FerretDB stores JSON in SQLite and its sizes say nothing about MongoDB.
 * - SQLite: --events events (every type in turn, user-addressed, each with an idempotency key) appended to a fresh
 *   `herald.db` through the store, checkpointed, then measured page by page (`dbstat`) per table and index.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BSON } from 'mongodb';
import { EVENT_TYPES, getSpec } from '../../src/events/catalogue.js';
import { examplePayload } from '../../src/events/examples.js';
import { newEventId } from '../../src/events/ids.js';
import type { NewEvent } from '../../src/events/model.js';
import { toDoc } from '../../src/store/mongo/event-docs.js';
import { createSqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { table } from './stats.js';

/** The key fields of every `event_logs` index (src/store/mongo/event-indexes.ts), for their BSON key sizes. */
const MONGO_INDEX_KEYS: readonly (readonly string[])[] = [
  ['_id'],
  ['seq'],
  ['timestamp'],
  ['type'],
  ['userId'],
  ['source'],
  ['timestamp', 'type'],
  ['userId', 'timestamp'],
  ['userId', 'seq'],
  ['deliveryId', 'seq'],
  ['roles', 'seq'],
  ['idempotencyKey'],
];

function sampleEvent(type: (typeof EVENT_TYPES)[number], i: number, now: number): NewEvent {
  const data = examplePayload(type);
  return {
    id: newEventId(now + i),
    type,
    level: getSpec(type).defaultLevel,
    userId: `cus_${String(i % 50_000).padStart(8, '0')}`,
    roles: [],
    source: 'orders-service',
    timestamp: now + i,
    data,
    deliveryId: typeof data['deliveryId'] === 'string' ? data['deliveryId'] : null,
    idempotencyKey: `orders-service:${now}-${i}`,
  };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv.filter((a) => a !== 'event-size'), options: { events: { type: 'string', default: '20000' } }, strict: true });
  const n = Number(values.events);
  const now = Date.now();

  const rows = EVENT_TYPES.map((type, i) => {
    const doc = { ...toDoc(sampleEvent(type, i, now)), seq: 1_000_000 + i };
    const indexBytes = MONGO_INDEX_KEYS.reduce((sum, fields) => sum + BSON.calculateObjectSize(Object.fromEntries(fields.map((f) => [f, (doc as Record<string, unknown>)[f] ?? null]))), 0);
    return { type, doc: BSON.calculateObjectSize(doc), indexBytes };
  });
  const mean = (f: (r: (typeof rows)[number]) => number) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
  console.log('MongoDB event_logs, per event (BSON before compression, computed from the document the store writes):');
  console.log(table([['type', 'document B', 'index keys B'], ...rows.map((r) => [r.type, String(r.doc), String(r.indexBytes)])]));
  console.log(`mean over the ${rows.length} types: document ${mean((r) => r.doc).toFixed(0)} B, index keys ${mean((r) => r.indexBytes).toFixed(0)} B (${MONGO_INDEX_KEYS.length} indexes incl. _id)`);

  const dir = mkdtempSync(join(tmpdir(), 'herald-event-size-'));
  try {
    const store = createSqliteEventStore({ dataDir: dir, synchronous: 'NORMAL' });
    for (let start = 0; start < n; start += 1000) {
      const batch = Array.from({ length: Math.min(1000, n - start) }, (_, j) => sampleEvent(EVENT_TYPES[(start + j) % EVENT_TYPES.length]!, start + j, now));
      await store.append(batch);
    }
    const db = (store as unknown as { db: import('better-sqlite3').Database }).db;
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pages = db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as Array<{ name: string; bytes: number }>;
    await store.close();
    const file = statSync(join(dir, 'herald.db')).size;
    const own = pages.filter((p) => p.name === 'events' || p.name.startsWith('events_') || p.name.startsWith('sqlite_autoindex_events'));
    console.log(`\nSQLite herald.db after ${n} events (all ${EVENT_TYPES.length} types in turn), per event:`);
    console.log(table([['table or index', 'bytes / event'], ...own.map((p) => [p.name, (p.bytes / n).toFixed(0)])]));
    console.log(`events and its indexes: ${(own.reduce((s, p) => s + p.bytes, 0) / n).toFixed(0)} B per event; the whole file (analytics counters included): ${(file / n).toFixed(0)} B per event (${(file / 1024 / 1024).toFixed(1)} MB)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
