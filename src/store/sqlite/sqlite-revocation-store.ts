/** Revocations on SQLite: one row per user (the latest revocation), in the Herald database file. */
import type Database from 'better-sqlite3';
import type { Revocation, RevocationStore } from '../../auth/revocations.js';
import { StoreError } from '../../errors.js';

const MIGRATION = `
CREATE TABLE IF NOT EXISTS revocations (
  user_id TEXT PRIMARY KEY,
  revoked_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS revocations_revoked_at ON revocations (revoked_at);
`;

export function createSqliteRevocationStore(db: Database.Database): RevocationStore {
  db.exec(MIGRATION);
  const upsert = db.prepare('INSERT INTO revocations (user_id, revoked_at) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET revoked_at = max(revoked_at, excluded.revoked_at)');
  const since = db.prepare<[number], { user_id: string; revoked_at: number }>('SELECT user_id, revoked_at FROM revocations WHERE revoked_at >= ?');
  const prune = db.prepare('DELETE FROM revocations WHERE revoked_at < ?');
  const guard = <T>(what: string, fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (cause) {
      return Promise.reject(new StoreError(`SQLite revocations: ${what} failed`, { cause }));
    }
  };
  return {
    revoke: ({ userId, revokedAt }: Revocation) => guard('revoke', () => void upsert.run(userId, revokedAt)),
    since: (from) => guard('since', () => since.all(from).map((row) => ({ userId: row.user_id, revokedAt: row.revoked_at }))),
    prune: (before) => guard('prune', () => void prune.run(before)),
  };
}
