/**
 * `npm run backup -- <file>` (src/cli/backup.ts) on a live server: run as its own process while a publisher keeps
 * committing, the copy holds every event acknowledged before the backup began, passes SQLite's integrity check,
 * and a Herald started on it serves them. It refuses to overwrite a file and to run against MongoDB.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../utils/server.js';
import { publish } from '../utils/publish.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;

/** Runs the CLI as `npm run backup` does (tsx), with DATA_DIR (and any extra env); never throws. */
async function backup(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/backup.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], NODE_ENV: 'test', JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-0123456789', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run backup', () => {
  const out = mkdtempSync(join(tmpdir(), 'herald-backup-'));
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close({ removeData: true });
    rmSync(out, { recursive: true, force: true });
  });

  it('copies a running server’s database, consistent, while events keep being committed', { timeout: 60_000 }, async () => {
    const server = await startServer();
    servers.push(server);
    const before: string[] = [];
    for (let i = 0; i < 40; i++) before.push((await publish(server, { type: 'order_created', userId: `sup_bk_${i % 4}`, source: 'backup-test' })).id);
    // Keep writing during the backup: the copy must be one consistent snapshot, not a torn file.
    let writing = true;
    let during = 0;
    const writer = (async () => {
      while (writing) {
        await publish(server, { type: 'order_created', userId: 'sup_bk_live', source: 'backup-test' });
        during++;
      }
    })();
    const destination = join(out, 'copy.db');
    const result = await backup([destination], { DATA_DIR: server.dataDir });
    writing = false;
    await writer;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const reported = Number(/backed up (\d+) events/.exec(result.stdout)?.[1]);
    expect(reported).toBeGreaterThanOrEqual(before.length);
    expect(result.stdout).toMatch(/integrity check ok/);
    expect(during).toBeGreaterThan(0);

    // A Herald on the copy (as a restore would do: the file becomes herald.db) serves what it holds.
    const restored = mkdtempSync(join(tmpdir(), 'herald-restored-'));
    copyFileSync(destination, join(restored, 'herald.db'));
    expect(existsSync(`${destination}-wal`)).toBe(false);
    const second = await startServer({ dataDir: restored });
    servers.push(second);
    const { body } = await second.gql(
      `{ events(filter: { sources: ["backup-test"] }, first: 500, order: OLDEST_FIRST) { edges { node { id } } } }`,
      {},
      second.token('adm_bk', 'admin'),
    );
    const ids = (body.data.events.edges as Array<{ node: { id: string } }>).map((e) => e.node.id);
    expect(ids.length).toBe(reported);
    expect(ids.slice(0, before.length)).toEqual(before);
  });

  it('refuses to overwrite an existing file', async () => {
    const server = await startServer();
    servers.push(server);
    const destination = join(out, 'taken.db');
    writeFileSync(destination, 'precious');
    const result = await backup([destination], { DATA_DIR: server.dataDir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/exists: choose a new file/);
  });

  it('refuses a MongoDB deployment, and a call without a destination', async () => {
    const mongo = await backup([join(out, 'm.db')], { DATA_DIR: out, MONGODB_URL: 'mongodb://127.0.0.1:1/herald' });
    expect(mongo.code).toBe(2);
    expect(mongo.stderr).toMatch(/mongodump/);
    const none = await backup([], { DATA_DIR: out });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/usage: npm run backup/);
  });
});
