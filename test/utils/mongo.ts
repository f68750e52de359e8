/**
 * A MongoDB for integration tests: `MONGODB_URL` when set (a unique database per call, dropped on stop),
 * else a throwaway FerretDB (SQLite handler) on a free 127.0.0.1 port, else a reason to skip.
 * Call once per test file (beforeAll / top-level await) and stop it in afterAll.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { MongoClient } from 'mongodb';
import { freePort } from './ports.js';

export interface TestMongo {
  /** Connection string naming a database unique to this call. */
  readonly url: string;
  stop(): Promise<void>;
}

export const NO_MONGO_MESSAGE =
  'No MongoDB: set MONGODB_URL or install ferretdb (go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2) — MongoDB store tests skipped';

const START_TIMEOUT_MS = 20_000;

// `go install ...@v1.24.2` builds from the module zip, which lacks build/version/version.txt: the binary panics.
const VERSION_TXT_HINT =
  'This ferretdb was built by `go install` without build/version/version.txt. Rebuild it: copy ' +
  '$(go env GOMODCACHE)/github.com/!ferret!d!b/!ferret!d!b@v1.24.2 to a writable dir, ' +
  '`echo v1.24.2 > build/version/version.txt`, then `go build -o $(go env GOPATH)/bin/ferretdb ./cmd/ferretdb`.';

/** A fresh database name: `herald_test_<random>`. */
export const uniqueDbName = () => `herald_test_${randomBytes(6).toString('hex')}`;

/** `url` with its database path replaced by `dbName` (query string kept). */
export function withDbName(url: string, dbName: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]*)(?:\/[^?]*)?(\?.*)?$/.exec(url);
  if (!match) throw new Error('MONGODB_URL is not a mongodb:// connection string');
  return `${match[1]}/${dbName}${match[2] ?? ''}`;
}

/** `url` with extra query options, e.g. `{ monitorCommands: 'true' }`. */
export function withUrlOptions(url: string, options: Record<string, string>): string {
  const query = new URLSearchParams(options).toString();
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}

export async function startMongoForTests(): Promise<TestMongo | { skip: string }> {
  const external = process.env.MONGODB_URL;
  if (external) return useExternal(external);
  const binary = findFerretDb();
  if (!binary) {
    // `.ci/run` sets HERALD_REQUIRE_MONGO=1: there a missing server is a failure, not a skip.
    if (process.env['HERALD_REQUIRE_MONGO'] === '1') throw new Error(`${NO_MONGO_MESSAGE}; HERALD_REQUIRE_MONGO=1 makes that a failure`);
    return { skip: NO_MONGO_MESSAGE };
  }
  return startFerretDb(binary);
}

function useExternal(base: string): TestMongo {
  const dbName = uniqueDbName();
  const url = withDbName(base, dbName);
  return {
    url,
    async stop() {
      const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
      try {
        await client.db(dbName).dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}

function findFerretDb(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] });
    dirs.push(...gopath.trim().split(delimiter).filter(Boolean).map((dir) => join(dir, 'bin')));
  } catch {
    // no Go toolchain: PATH and the default GOPATH only
  }
  dirs.push('/root/go/bin');
  for (const dir of dirs) {
    const candidate = join(dir, 'ferretdb');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function startFerretDb(binary: string): Promise<TestMongo> {
  let lastError: unknown;
  // The free port can be taken between probing and binding: retry on a new one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'herald-ferretdb-'));
    const port = await freePort();
    const logFile = join(dir, 'ferretdb.log');
    const log = openSync(logFile, 'a');
    const child = spawn(
      binary,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${dir}/`,
        `--state-dir=${dir}`,
        `--listen-addr=127.0.0.1:${port}`,
        '--telemetry=disable',
        '--debug-addr=-',
        '--log-level=warn',
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    const stop = async () => {
      await kill(child);
      rmSync(dir, { recursive: true, force: true });
    };
    const base = `mongodb://127.0.0.1:${port}`;
    try {
      await waitUntilReady(base, child);
      return { url: `${base}/${uniqueDbName()}`, stop };
    } catch (error) {
      const log = safeRead(logFile);
      const hint = log.includes('version.txt') ? `\n${VERSION_TXT_HINT}` : '';
      lastError = new Error(`ferretdb (${binary}) did not start: ${(error as Error).message}${hint}\n${log.split('\n').slice(0, 8).join('\n')}`);
      await stop();
      if (hint) break; // the same binary will panic again
    }
  }
  throw lastError;
}

async function waitUntilReady(base: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = child.exitCode !== null;
  child.once('exit', () => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`exited with code ${child.exitCode}`);
    const client = new MongoClient(base, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
    try {
      await client.db('admin').command({ ping: 1 });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.close().catch(() => {});
    }
  }
  throw new Error(`no answer to ping within ${START_TIMEOUT_MS} ms`);
}


async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
