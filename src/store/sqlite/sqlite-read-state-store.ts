/**
 * Notification read state on SQLite, in the Herald database file: one row per reader (its positions) and one per
 * mark. `advance` runs in one transaction, so a reader's positions and the marks they make redundant change
 * together; SQLite has one writer, so "never back" (`max`) needs no further care.
 */
import type Database from 'better-sqlite3';
import type { EventId, LogPosition } from '../../events/model.js';
import type { NotificationMark, ReaderKey, ReadStateStore } from '../../notifications/read-state-store.js';
import { EMPTY_READ_STATE } from '../../notifications/read-state-store.js';
import { guarded } from './guard.js';

const MIGRATION = `
CREATE TABLE IF NOT EXISTS notification_readers (
  reader TEXT PRIMARY KEY,
  read_through INTEGER,
  cleared_through INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS notification_readers_updated_at ON notification_readers (updated_at);
CREATE TABLE IF NOT EXISTS notification_marks (
  reader TEXT NOT NULL,
  event_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  read INTEGER,
  archived INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (reader, event_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS notification_marks_position ON notification_marks (reader, position);
CREATE INDEX IF NOT EXISTS notification_marks_ts ON notification_marks (ts);
`;

interface ReaderRow {
  read_through: number | null;
  cleared_through: number | null;
  updated_at: number;
}

interface MarkRow {
  event_id: string;
  position: number;
  ts: number;
  read: number | null;
  archived: number;
}

const toMark = (row: MarkRow): NotificationMark => ({
  eventId: row.event_id as EventId,
  position: row.position as LogPosition,
  timestamp: row.ts,
  read: row.read === null ? null : row.read === 1,
  archived: row.archived === 1,
});

const flag = (value: boolean | undefined) => (value === undefined ? null : value ? 1 : 0);

export function createSqliteReadStateStore(db: Database.Database): ReadStateStore {
  db.exec(MIGRATION);
  const getReader = db.prepare<[string], ReaderRow>('SELECT read_through, cleared_through, updated_at FROM notification_readers WHERE reader = ?');
  const touch = db.prepare('INSERT INTO notification_readers (reader, updated_at) VALUES (?, ?) ON CONFLICT (reader) DO UPDATE SET updated_at = max(updated_at, excluded.updated_at)');
  const advanceReader = db.prepare(
    `INSERT INTO notification_readers (reader, read_through, cleared_through, updated_at) VALUES (@reader, @read, @cleared, @at)
     ON CONFLICT (reader) DO UPDATE SET
       read_through = CASE WHEN excluded.read_through IS NULL THEN read_through ELSE max(coalesce(read_through, 0), excluded.read_through) END,
       cleared_through = CASE WHEN excluded.cleared_through IS NULL THEN cleared_through ELSE max(coalesce(cleared_through, 0), excluded.cleared_through) END,
       updated_at = max(updated_at, excluded.updated_at)`,
  );
  const upsertMark = db.prepare(
    `INSERT INTO notification_marks (reader, event_id, position, ts, read, archived) VALUES (@reader, @eventId, @position, @ts, @read, coalesce(@archived, 0))
     ON CONFLICT (reader, event_id) DO UPDATE SET read = coalesce(excluded.read, read), archived = coalesce(@archived, archived)`,
  );
  const marksAfter = db.prepare<[string, number], MarkRow>('SELECT event_id, position, ts, read, archived FROM notification_marks WHERE reader = ? AND position > ?');
  const dropCleared = db.prepare('DELETE FROM notification_marks WHERE reader = ? AND position <= ?');
  const dropRead = db.prepare('DELETE FROM notification_marks WHERE reader = ? AND position <= ? AND archived = 0');
  const resetRead = db.prepare('UPDATE notification_marks SET read = NULL WHERE reader = ? AND position <= ? AND archived = 1');
  const changedSince = db.prepare<[number], { reader: string; updated_at: number }>('SELECT reader, updated_at FROM notification_readers WHERE updated_at >= ?');
  const purge = db.prepare('DELETE FROM notification_marks WHERE ts < ?');

  const markAll = db.transaction((reader: string, changes: Parameters<ReadStateStore['mark']>[1], updatedAt: number) => {
    for (const change of changes) {
      upsertMark.run({ reader, eventId: change.eventId, position: change.position, ts: change.timestamp, read: flag(change.read), archived: flag(change.archived) });
    }
    touch.run(reader, updatedAt);
  });
  const advance = db.transaction((reader: string, read: number | null, cleared: number | null, updatedAt: number) => {
    advanceReader.run({ reader, read, cleared, at: updatedAt });
    const row = getReader.get(reader)!;
    if (row.cleared_through !== null) dropCleared.run(reader, row.cleared_through);
    if (row.read_through !== null) {
      dropRead.run(reader, row.read_through);
      resetRead.run(reader, row.read_through);
    }
  });

  return {
    get: (key) =>
      guarded('read state: get', () => {
        const row = getReader.get(key);
        return row
          ? { readThrough: row.read_through as LogPosition | null, clearedThrough: row.cleared_through as LogPosition | null, updatedAt: row.updated_at }
          : EMPTY_READ_STATE;
      }),
    marksAfter: (key, after) => guarded('read state: marks', () => marksAfter.all(key, after ?? -1).map(toMark)),
    mark: (key, changes, updatedAt) => guarded('read state: mark', () => markAll(key, changes, updatedAt)),
    advance: (key, { readThrough, clearedThrough }, updatedAt) =>
      guarded('read state: advance', () => advance(key, readThrough ?? null, clearedThrough ?? null, updatedAt)),
    changedSince: (since) => guarded('read state: changes', () => changedSince.all(since).map((row) => ({ key: row.reader as ReaderKey, updatedAt: row.updated_at }))),
    purgeBefore: (before) => guarded('read state: purge', () => purge.run(before).changes),
  };
}
