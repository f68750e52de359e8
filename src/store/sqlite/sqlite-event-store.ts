/**
 * EventStore on SQLite (better-sqlite3, WAL): the embedded default, one file under DATA_DIR.
 * `seq` is the table's INTEGER PRIMARY KEY, assigned at commit, so seq order is commit order.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AppendResult, EventFilter, EventStore, ListOptions } from '../../events/event-store.js';
import type { EventId, HeraldEvent, NewEvent } from '../../events/model.js';
import type { EventLevel, EventTypeName, Role } from '../../events/catalogue.js';
import { StoreError } from '../../errors.js';
import { createGroupCommit } from './group-commit.js';
import { timeBuckets } from '../time-buckets.js';
import type { WithAnalytics } from '../../analytics/analytics-store.js';
import { createSqliteAnalyticsStore, createSqliteCounters } from './sqlite-analytics.js';
import { createSqliteErrorStore } from './sqlite-error-store.js';
import { newLogEpoch } from '../../events/cursor.js';

export interface SqliteEventStoreOptions {
  /** Directory of the database file (`herald.db`); `:memory:` for a throwaway store. */
  readonly dataDir: string;
  /**
   * SQLite `synchronous` pragma. FULL fsyncs every commit: an acknowledged event survives power loss.
   * @default 'FULL'
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /**
   * Most events per transaction (group commit). A flush writes everything waiting before it yields, in
   * transactions of at most this many events: a larger value means fewer commits under saturation, not a
   * longer stall. A lone event is still written at the end of its event-loop turn.
   * @default 10000
   */
  readonly maxBatch?: number;
  /**
   * WAL size, in pages, that triggers a checkpoint. Every commit dirties pages all over the user and delivery
   * indexes; with SQLite's default (1000) nearly every commit checkpointed, copying those pages again and again.
   * After a checkpoint the WAL file is truncated to 64 MB.
   * @default 50000 (about 200 MB)
   */
  readonly walAutocheckpointPages?: number;
  /**
   * Page cache of the connection, in KiB: the random-access user and delivery indexes stay in memory.
   * @default 65536 (64 MB)
   */
  readonly cacheSizeKiB?: number;
}

interface Row {
  seq: number;
  id: string;
  type: string;
  level: string;
  user_id: string | null;
  roles: string;
  source: string;
  ts: number;
  data: string;
  delivery_id: string | null;
  idempotency_key: string | null;
}

const MIGRATION = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  level TEXT NOT NULL,
  user_id TEXT,
  roles TEXT NOT NULL,
  source TEXT NOT NULL,
  ts INTEGER NOT NULL,
  data TEXT NOT NULL,
  delivery_id TEXT,
  idempotency_key TEXT UNIQUE,
  day TEXT NOT NULL,
  hour INTEGER NOT NULL,
  weekday INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE INDEX IF NOT EXISTS events_type_seq ON events (type, seq);
-- One user index serves both keyset listing (seq order) and time windows (ts read from the index entry):
-- a second random-access user index cost a third of the write time of a batch. Replaces the two of v0.1.
CREATE INDEX IF NOT EXISTS events_user_seq_ts ON events (user_id, seq, ts);
DROP INDEX IF EXISTS events_user_seq;
DROP INDEX IF EXISTS events_user_ts;
CREATE INDEX IF NOT EXISTS events_source ON events (source);
-- criticalEvents: walks the few CRITICAL entries newest first instead of scanning the log.
CREATE INDEX IF NOT EXISTS events_level_seq ON events (level, seq);
CREATE INDEX IF NOT EXISTS events_delivery_seq ON events (delivery_id, seq) WHERE delivery_id IS NOT NULL;
-- Role broadcasts by role, so a viewer's events are two index ranges (its user id's, its role's broadcasts)
-- instead of a scan of the log filtered by \`user_id = ? OR roles LIKE ?\`. Filled with each event.
CREATE TABLE IF NOT EXISTS event_broadcasts (role TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (role, seq)) WITHOUT ROWID;
-- The log's epoch (src/events/cursor.ts), chosen by the first open of this file.
CREATE TABLE IF NOT EXISTS log_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** Roles are stored as `,a,b,` so one role matches with LIKE '%,role,%'. */
const encodeRoles = (roles: readonly Role[]) => (roles.length ? `,${roles.join(',')},` : '');
const decodeRoles = (roles: string) => roles.split(',').filter(Boolean) as Role[];

function toEvent(row: Row): HeraldEvent {
  return {
    seq: row.seq,
    id: row.id as EventId,
    type: row.type as EventTypeName,
    level: row.level as EventLevel,
    userId: row.user_id,
    roles: decodeRoles(row.roles),
    source: row.source,
    timestamp: row.ts,
    data: JSON.parse(row.data) as Record<string, unknown>,
    deliveryId: row.delivery_id,
    idempotencyKey: row.idempotency_key,
  };
}

/** A log written before `event_broadcasts` existed gets its rows once, at the first open after the upgrade. */
function backfillBroadcasts(db: Database.Database): void {
  if (db.prepare("SELECT 1 FROM log_meta WHERE key = 'broadcasts'").get()) return;
  db.transaction(() => {
    const add = db.prepare('INSERT OR IGNORE INTO event_broadcasts (role, seq) VALUES (?, ?)');
    const page = db.prepare<[number], { seq: number; roles: string }>("SELECT seq, roles FROM events WHERE seq > ? AND roles != '' ORDER BY seq LIMIT 10000");
    for (let rows = page.all(0); rows.length > 0; rows = page.all(rows[rows.length - 1]!.seq)) {
      for (const row of rows) for (const role of decodeRoles(row.roles)) add.run(role, row.seq);
    }
    db.prepare("INSERT INTO log_meta (key, value) VALUES ('broadcasts', '1')").run();
  })();
}

/** Builds the WHERE clause shared by list and counts. */
export function whereClause(filter: EventFilter): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const inList = (column: string, values: readonly unknown[]) => {
    parts.push(values.length ? `${column} IN (${values.map(() => '?').join(',')})` : '0');
    params.push(...values);
  };
  if (filter.userId !== undefined) {
    parts.push('user_id = ?');
    params.push(filter.userId);
  }
  if (filter.types) inList('type', filter.types);
  if (filter.levels) inList('level', filter.levels);
  if (filter.sources) inList('source', filter.sources);
  if (filter.deliveryId !== undefined) {
    parts.push('delivery_id = ?');
    params.push(filter.deliveryId);
  }
  if (filter.from !== undefined) {
    parts.push('ts >= ?');
    params.push(filter.from);
  }
  if (filter.to !== undefined) {
    parts.push('ts < ?');
    params.push(filter.to);
  }
  if (filter.audience) {
    inList('type', filter.audience.types);
    parts.push(`(user_id = ? OR roles LIKE ?)`);
    params.push(filter.audience.userId, `%,${filter.audience.role},%`);
  }
  return { sql: parts.length ? parts.join(' AND ') : '1', params };
}

export type SqliteEventStore = EventStore & WithAnalytics & { readonly db: Database.Database };

export function createSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  let db: Database.Database;
  let epoch: string;
  try {
    const file = options.dataDir === ':memory:' ? ':memory:' : join(options.dataDir, 'herald.db');
    if (file !== ':memory:') mkdirSync(options.dataDir, { recursive: true });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    db.pragma('busy_timeout = 5000');
    db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.floor(options.walAutocheckpointPages ?? 50_000))}`);
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    db.pragma(`cache_size = -${Math.max(2048, Math.floor(options.cacheSizeKiB ?? 65_536))}`);
    db.exec(MIGRATION);
    db.prepare("INSERT OR IGNORE INTO log_meta (key, value) VALUES ('epoch', ?)").run(newLogEpoch());
    epoch = (db.prepare("SELECT value FROM log_meta WHERE key = 'epoch'").get() as { value: string }).value;
    backfillBroadcasts(db);
  } catch (cause) {
    throw new StoreError(`Cannot open the SQLite event log in ${options.dataDir}`, { cause });
  }

  const insert = db.prepare(
    `INSERT INTO events (id, type, level, user_id, roles, source, ts, data, delivery_id, idempotency_key, day, hour, weekday)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
  );
  const addBroadcast = db.prepare('INSERT OR IGNORE INTO event_broadcasts (role, seq) VALUES (?, ?)');
  const byKey = db.prepare<[string], Row>('SELECT * FROM events WHERE idempotency_key = ?');
  const byId = db.prepare<[string], Row>('SELECT * FROM events WHERE id = ?');

  const counters = createSqliteCounters(db);

  // Counters are incremented in the insert's transaction: they can never disagree with the log.
  const appendBatch = db.transaction((events: readonly NewEvent[]): AppendResult[] => {
    const results = events.map((event): AppendResult => {
      if (event.idempotencyKey) {
        const existing = byKey.get(event.idempotencyKey);
        if (existing) return { event: toEvent(existing), duplicate: true };
      }
      const { day, hour, weekday } = timeBuckets(event.timestamp);
      const info = insert.run(
        event.id, event.type, event.level, event.userId, encodeRoles(event.roles), event.source, event.timestamp,
        JSON.stringify(event.data), event.deliveryId, event.idempotencyKey, day, hour, weekday,
      );
      if (info.changes === 0) {
        // Keys were checked above, so the id exists: the event was appended before (a retried append).
        const existing = byId.get(event.id);
        if (!existing) throw new Error(`event ${event.id} was neither inserted nor found`);
        return { event: toEvent(existing), duplicate: true };
      }
      const seq = Number(info.lastInsertRowid);
      for (const role of event.roles) addBroadcast.run(role, seq);
      return { event: { ...event, seq }, duplicate: false };
    });
    counters.apply(results.filter((r) => !r.duplicate).map((r) => r.event));
    return results;
  });

  // Coalesces appends that arrive in the same event-loop turn into one transaction (one fsync).
  const groupCommit = createGroupCommit<NewEvent, AppendResult>((batch) => appendBatch(batch), options.maxBatch ?? 10_000);

  const guard = <T>(what: string, fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (cause) {
      return Promise.reject(new StoreError(`SQLite event log: ${what} failed`, { cause }));
    }
  };

  return {
    kind: 'sqlite',
    epoch,
    db,
    analytics: createSqliteAnalyticsStore(db),
    errors: createSqliteErrorStore(db),
    async append(events) {
      if (events.length === 0) return [];
      try {
        return await groupCommit(events);
      } catch (cause) {
        throw new StoreError('SQLite event log: append failed', { cause });
      }
    },
    get: (id) => guard('get', () => {
      const row = byId.get(id);
      return row ? toEvent(row) : null;
    }),
    list: ({ filter, afterSeq, untilSeq, order, limit }: ListOptions) =>
      guard('list', () => {
        const keysetOn = (column: string) => {
          let sql = afterSeq === undefined ? '' : order === 'ASC' ? ` AND ${column} > ?` : ` AND ${column} < ?`;
          const params: unknown[] = afterSeq === undefined ? [] : [afterSeq];
          if (untilSeq !== undefined) {
            sql += ` AND ${column} <= ?`;
            params.push(untilSeq);
          }
          return { sql, params };
        };
        if (!filter.audience) {
          const where = whereClause(filter);
          const keyset = keysetOn('seq');
          const rows = db
            .prepare<unknown[], Row>(`SELECT * FROM events WHERE ${where.sql}${keyset.sql} ORDER BY seq ${order} LIMIT ?`)
            .all(...where.params, ...keyset.params, limit);
          return rows.map(toEvent);
        }
        // A viewer's events: those addressed to it (the user index) and its role's broadcasts (event_broadcasts),
        // each read as an index range in seq order, then merged.
        const { audience, ...rest } = filter;
        const base = whereClause({ ...rest, types: rest.types ? rest.types.filter((t) => audience.types.includes(t)) : audience.types });
        const keyset = keysetOn('e.seq');
        const own = db
          .prepare<unknown[], Row>(
            `SELECT e.* FROM events e INDEXED BY events_user_seq_ts WHERE e.user_id = ? AND ${base.sql}${keyset.sql} ORDER BY e.seq ${order} LIMIT ?`,
          )
          .all(audience.userId, ...base.params, ...keyset.params, limit);
        const broadcast = db
          .prepare<unknown[], Row>(
            `SELECT e.* FROM event_broadcasts b JOIN events e ON e.seq = b.seq
             WHERE b.role = ? AND (e.user_id IS NULL OR e.user_id != ?) AND ${base.sql}${keysetOn('b.seq').sql} ORDER BY b.seq ${order} LIMIT ?`,
          )
          .all(audience.role, audience.userId, ...base.params, ...keyset.params, limit);
        if (broadcast.length === 0) return own.map(toEvent);
        const merged = [...own, ...broadcast].sort((x, y) => (order === 'ASC' ? x.seq - y.seq : y.seq - x.seq));
        return merged.slice(0, limit).map(toEvent);
      }),
    countSince: (since) =>
      guard('count', () => (db.prepare('SELECT count(*) AS n FROM events WHERE ts >= ?').get(since) as { n: number }).n),
    lastSeq: () =>
      guard('lastSeq', () => (db.prepare('SELECT coalesce(max(seq), 0) AS s FROM events').get() as { s: number }).s),
    bounds: () =>
      guard('bounds', () => {
        const { oldest, top } = db.prepare('SELECT min(seq) AS oldest, coalesce(max(seq), 0) AS top FROM events').get() as { oldest: number | null; top: number };
        // AUTOINCREMENT keeps the highest seq ever given out, also once retention has purged it.
        const assigned = (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined)?.seq ?? 0;
        return { oldest, head: Math.max(top, assigned) };
      }),
    purgeBefore: (before) =>
      guard('purge', () =>
        db.transaction(() => {
          db.prepare("DELETE FROM event_broadcasts WHERE seq IN (SELECT seq FROM events WHERE ts < ? AND roles != '')").run(before);
          return db.prepare('DELETE FROM events WHERE ts < ?').run(before).changes;
        })(),
      ),
    async close() {
      if (db.open) db.close();
    },
  };
}
