/** `event_errors` on SQLite: one row per recorded failure, newest found through the `at` index. */
import type Database from 'better-sqlite3';
import type { ErrorCount, ErrorKind, ErrorStore, RecordedError } from '../../analytics/error-store.js';
import { guarded } from './guard.js';

const MIGRATION = `
CREATE TABLE IF NOT EXISTS event_errors (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  source TEXT,
  message TEXT NOT NULL,
  field TEXT,
  event_id TEXT,
  endpoint_id TEXT,
  details TEXT
);
CREATE INDEX IF NOT EXISTS event_errors_at ON event_errors (at);
`;

interface Row {
  id: number;
  at: number;
  kind: string;
  source: string | null;
  message: string;
  field: string | null;
  event_id: string | null;
  endpoint_id: string | null;
  details: string | null;
}

const toRecorded = (row: Row): RecordedError => ({
  id: String(row.id),
  at: row.at,
  kind: row.kind as ErrorKind,
  source: row.source,
  message: row.message,
  field: row.field,
  eventId: row.event_id,
  endpointId: row.endpoint_id,
  details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
});

export function createSqliteErrorStore(db: Database.Database): ErrorStore {
  db.exec(MIGRATION);
  const insert = db.prepare(
    `INSERT INTO event_errors (at, kind, source, message, field, event_id, endpoint_id, details)
     VALUES (@at, @kind, @source, @message, @field, @eventId, @endpointId, @details)`,
  );
  const insertAll = db.transaction((errors: Parameters<ErrorStore['record']>[0]) => {
    for (const e of errors) {
      insert.run({
        at: e.at,
        kind: e.kind,
        source: e.source,
        message: e.message,
        field: e.field ?? null,
        eventId: e.eventId ?? null,
        endpointId: e.endpointId ?? null,
        details: e.details ? JSON.stringify(e.details) : null,
      });
    }
  });
  const counts = {
    kind: db.prepare<[number], ErrorCount>('SELECT kind AS key, count(*) AS count FROM event_errors WHERE at >= ? GROUP BY kind'),
    source: db.prepare<[number], ErrorCount>('SELECT source AS key, count(*) AS count FROM event_errors WHERE at >= ? GROUP BY source'),
  };
  const latest = db.prepare<[number, number], Row>('SELECT * FROM event_errors WHERE at >= ? ORDER BY at DESC, id DESC LIMIT ?');
  const purge = db.prepare('DELETE FROM event_errors WHERE at < ?');
  return {
    record: (errors) => guarded('event_errors: record', () => void (errors.length && insertAll(errors))),
    countSince: (since, by) => guarded('event_errors: count', () => counts[by].all(since)),
    latest: (since, limit) => guarded('event_errors: latest', () => latest.all(since, limit).map(toRecorded)),
    purgeBefore: (before) => guarded('event_errors: purge', () => purge.run(before).changes),
  };
}
