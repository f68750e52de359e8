/**
 * `npm run backup -- <destination file>`: an online backup of the embedded SQLite database (`$DATA_DIR/herald.db`:
 * event log, webhooks, revocations, analytics), safe while Herald runs. Copying the file alone is not: recent
 * commits live in `herald.db-wal` until a checkpoint. SQLite's backup API (through better-sqlite3) copies one
 * consistent snapshot in one step (a read transaction: in WAL mode, writers go on meanwhile); the copy is then
 * made a single self-contained file (journal mode DELETE) and checked (`PRAGMA integrity_check`).
 * In a built image: `node dist/src/cli/backup.js <destination>`. MongoDB deployments use mongodump instead.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { loadConfig } from '../config.js';

export interface BackupResult {
  readonly destination: string;
  readonly bytes: number;
  /** Events in the copied log. */
  readonly events: number;
  readonly ms: number;
}

/** Copies the database at `source` to `destination` (which must not exist) and verifies the copy. */
export async function backupSqlite(source: string, destination: string): Promise<BackupResult> {
  if (!existsSync(source)) throw new Error(`No database at ${source} (is DATA_DIR right?)`);
  if (existsSync(destination)) throw new Error(`${destination} exists: choose a new file, a backup never overwrites one`);
  const started = Date.now();
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // All remaining pages in one step: a step-wise copy restarts whenever Herald commits in between.
    await db.backup(destination, { progress: () => 0x7fffffff });
  } finally {
    db.close();
  }
  const copy = new Database(destination, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`The copy at ${destination} failed its integrity check: ${String(check)}`);
    const hasEvents = copy.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
    const events = hasEvents ? (copy.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n : 0;
    return { destination, bytes: (await stat(destination)).size, events, ms: Date.now() - started };
  } finally {
    copy.close();
  }
}

const usage = 'usage: npm run backup -- <destination file>   (reads DATA_DIR like the server; the file must not exist)';

async function main() {
  const { positionals } = parseArgs({ allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new Error(usage);
  const config = loadConfig();
  if (config.mongodbUrl) throw new Error('MONGODB_URL is set: the event log is on MongoDB; back it up with mongodump, not this command');
  const result = await backupSqlite(join(config.dataDir, 'herald.db'), resolve(positionals[0]!));
  process.stdout.write(`backed up ${result.events} events (${(result.bytes / 1024 / 1024).toFixed(1)} MB) to ${result.destination} in ${result.ms} ms; integrity check ok\n`);
}

if (process.argv[1] && resolve(process.argv[1]).replace(/\.ts$/, '.js') === resolve(new URL(import.meta.url).pathname).replace(/\.ts$/, '.js')) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  });
}
