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

export interface SqliteEventStoreOptions {
  /** Directory of the database file (`herald.db`); `:memory:` for a throwaway store. */
  readonly dataDir: string;
  /**
   * SQLite `synchronous` pragma. FULL fsyncs every commit: an acknowledged event survives power loss.
   * @default 'FULL'
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
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
CREATE INDEX IF NOT EXISTS events_user_seq ON events (user_id, seq);
CREATE INDEX IF NOT EXISTS events_user_ts ON events (user_id, ts);
CREATE INDEX IF NOT EXISTS events_source ON events (source);
CREATE INDEX IF NOT EXISTS events_delivery_seq ON events (delivery_id, seq) WHERE delivery_id IS NOT NULL;
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

export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore & { readonly db: Database.Database } {
  let db: Database.Database;
  try {
    const file = options.dataDir === ':memory:' ? ':memory:' : join(options.dataDir, 'herald.db');
    if (file !== ':memory:') mkdirSync(options.dataDir, { recursive: true });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    db.pragma('busy_timeout = 5000');
    db.exec(MIGRATION);
  } catch (cause) {
    throw new StoreError(`Cannot open the SQLite event log in ${options.dataDir}`, { cause });
  }

  const insert = db.prepare(
    `INSERT INTO events (id, type, level, user_id, roles, source, ts, data, delivery_id, idempotency_key, day, hour, weekday)
     VALUES (@id, @type, @level, @userId, @roles, @source, @timestamp, @data, @deliveryId, @idempotencyKey, @day, @hour, @weekday)`,
  );
  const byKey = db.prepare<[string], Row>('SELECT * FROM events WHERE idempotency_key = ?');
  const byId = db.prepare<[string], Row>('SELECT * FROM events WHERE id = ?');

  const appendBatch = db.transaction((events: readonly NewEvent[]): AppendResult[] =>
    events.map((event) => {
      if (event.idempotencyKey) {
        const existing = byKey.get(event.idempotencyKey);
        if (existing) return { event: toEvent(existing), duplicate: true };
      }
      const info = insert.run({
        ...event,
        roles: encodeRoles(event.roles),
        data: JSON.stringify(event.data),
        ...timeBuckets(event.timestamp),
      });
      return { event: { ...event, seq: Number(info.lastInsertRowid) }, duplicate: false };
    }),
  );

  // Coalesces appends that arrive in the same event-loop turn into one transaction (one fsync).
  const groupCommit = createGroupCommit<NewEvent, AppendResult>((batch) => appendBatch(batch));

  const guard = <T>(what: string, fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (cause) {
      return Promise.reject(new StoreError(`SQLite event log: ${what} failed`, { cause }));
    }
  };

  return {
    kind: 'sqlite',
    db,
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
    list: ({ filter, afterSeq, order, limit }: ListOptions) =>
      guard('list', () => {
        const where = whereClause(filter);
        const keyset = afterSeq === undefined ? '' : order === 'ASC' ? ' AND seq > ?' : ' AND seq < ?';
        const params = afterSeq === undefined ? where.params : [...where.params, afterSeq];
        const rows = db
          .prepare<unknown[], Row>(`SELECT * FROM events WHERE ${where.sql}${keyset} ORDER BY seq ${order} LIMIT ?`)
          .all(...params, limit);
        return rows.map(toEvent);
      }),
    countSince: (since) =>
      guard('count', () => (db.prepare('SELECT count(*) AS n FROM events WHERE ts >= ?').get(since) as { n: number }).n),
    lastSeq: () =>
      guard('lastSeq', () => (db.prepare('SELECT coalesce(max(seq), 0) AS s FROM events').get() as { s: number }).s),
    purgeBefore: (before) => guard('purge', () => db.prepare('DELETE FROM events WHERE ts < ?').run(before).changes),
    async close() {
      if (db.open) db.close();
    },
  };
}
