/**
 * Store benchmark (`npm run bench`): seeds N generated events (default 1,000,000) into each store through the
 * hub, measures the store's raw bulk insert on the same data in the same run, then starts the real server on
 * the seeded data and times the admin queries over HTTP and an export's memory. Traffic goes to 127.0.0.1 only;
 * every loop is bounded in count and time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { signDevToken } from '../../src/auth/tokens.js';
import { createHub } from '../../src/events/hub.js';
import { createLocalEventBus } from '../../src/events/event-bus.js';
import type { EventStore } from '../../src/events/event-store.js';
import { newEventId } from '../../src/events/ids.js';
import { buildSchema } from '../../src/graphql/schema.js';
import { createPayloadValidator } from '../../src/graphql/payload-validator.js';
import type { ExportFormat } from '../../src/analytics/export.js';
import { createSqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { createMongoEventStore } from '../../src/store/mongo/mongo-event-store.js';
import { timeBuckets } from '../../src/store/time-buckets.js';
import { startMongoForTests, uniqueDbName, withDbName, type TestMongo } from '../utils/mongo.js';
import { createEventGenerator } from './generate.js';
import { mb, ms, rate, sample, table, type Sampled } from './stats.js';

export type StoreKind = 'sqlite' | 'mongo';

export interface StoreBenchOptions {
  /** Events seeded into each store. @default 1_000_000 */
  readonly events: number;
  readonly stores: readonly StoreKind[];
  /** Distinct users. @default 50_000 */
  readonly users: number;
  /** The seeded events span this many days, ending now. @default 30 */
  readonly days: number;
  /** Timed calls per query. @default 200 */
  readonly samples: number;
  /** Events for the raw bulk-insert measurement. @default events */
  readonly rawEvents: number;
  /** Stop a seeding phase after this long and report what was written. @default 3600 */
  readonly seedTimeoutSeconds: number;
  readonly exportFormat: ExportFormat;
  /** Stop the export after this long and report the part exported. @default 900 */
  readonly exportTimeoutSeconds: number;
  readonly log: (line: string) => void;
}

interface Ingest {
  readonly events: number;
  readonly seconds: number;
}

export interface StoreBenchResult {
  readonly store: StoreKind;
  readonly events: number;
  readonly raw: Ingest;
  readonly hub: Ingest;
  readonly queries: Record<string, Sampled>;
  readonly exported: { rows: number; bytes: number; seconds: number; idleRss: number; peakRss: number; partial: boolean };
}

const JWT_SECRET = 'bench-secret-that-is-long-enough-for-hs256-0123456789';
const DAY = 86_400_000;

/** The benchmark's server: a child process (test/bench/serve.ts) reporting its own RSS every 25 ms. */
interface BenchServer {
  readonly url: string;
  readonly token: string;
  /** RSS samples reported since the last call, in bytes. */
  takeRss(): number[];
  /** Collects garbage in the server. */
  gc(): Promise<void>;
  stop(): Promise<void>;
}

async function startBenchServer(env: Record<string, string>): Promise<BenchServer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./serve.ts', import.meta.url))], {
    env: { ...process.env, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', JWT_SECRET, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let rss: number[] = [];
  let onGc: (() => void) | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('rss ')) rss.push(Number(line.slice(4)));
      else if (line === 'gc-done') onGc?.();
      else if (line.startsWith('{')) resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  return {
    url,
    token: signDevToken(JWT_SECRET, { sub: 'bench-admin', role: 'admin' }),
    takeRss: () => {
      const taken = rss;
      rss = [];
      return taken;
    },
    gc: () =>
      new Promise<void>((resolve) => {
        onGc = resolve;
        child.stdin!.write('gc\n');
      }),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Timestamp of the i-th of n events spread evenly over [start, start + span). */
const timestampOf = (i: number, n: number, start: number, span: number) => start + Math.floor((i * span) / n);

// ---------------------------------------------------------------------------------------------
// Seeding

/** Raw bulk insert: SQLite prepared INSERT in one transaction; MongoDB insertMany. Row building is not timed. */
async function rawInsert(kind: StoreKind, target: { dataDir: string; mongoUrl?: string }, options: StoreBenchOptions, start: number): Promise<Ingest> {
  const n = options.rawEvents;
  const generator = createEventGenerator({ users: options.users, seed: 7 });
  const deadline = performance.now() + options.seedTimeoutSeconds * 1000;
  const rows = (from: number, count: number) =>
    Array.from({ length: count }, (_, k) => {
      const input = generator.next();
      const timestamp = timestampOf(from + k, n, start, options.days * DAY);
      return { ...input, id: newEventId(timestamp), timestamp, level: 'MEDIUM', ...timeBuckets(timestamp) };
    });
  let busy = 0;
  let written = 0;
  if (kind === 'sqlite') {
    const store = createSqliteEventStore({ dataDir: target.dataDir });
    const insert = store.db.prepare(
      `INSERT INTO events (id, type, level, user_id, roles, source, ts, data, delivery_id, idempotency_key, day, hour, weekday)
       VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, NULL, ?, ?, ?)`,
    );
    store.db.exec('BEGIN');
    for (let i = 0; i < n && performance.now() < deadline; i += 10_000) {
      const chunk = rows(i, Math.min(10_000, n - i)).map((r) => ({ ...r, json: JSON.stringify(r.data) }));
      const t = performance.now();
      for (const r of chunk) insert.run(r.id, r.type, r.level, r.userId, r.source, r.timestamp, r.json, (r.data as { deliveryId?: string }).deliveryId ?? null, r.day, r.hour, r.weekday);
      busy += performance.now() - t;
      written += chunk.length;
    }
    const t = performance.now();
    store.db.exec('COMMIT');
    busy += performance.now() - t;
    await store.close();
  } else {
    const store = await createMongoEventStore({ url: target.mongoUrl! });
    const collection = store.db.collection('event_logs');
    for (let i = 0; i < n && performance.now() < deadline; i += 10_000) {
      const chunk = rows(i, Math.min(10_000, n - i)).map((r, k) => ({
        _id: r.id, seq: i + k + 1, type: r.type, level: r.level, userId: r.userId, roles: [], source: r.source,
        timestamp: new Date(r.timestamp), data: r.data, deliveryId: (r.data as { deliveryId?: string }).deliveryId ?? null,
        day: r.day, hour: r.hour, weekday: r.weekday,
      }));
      const t = performance.now();
      for (let k = 0; k < chunk.length; k += 1000) await collection.insertMany(chunk.slice(k, k + 1000) as never[], { ordered: true });
      busy += performance.now() - t;
      written += chunk.length;
    }
    await store.db.dropDatabase();
    await store.close();
  }
  return { events: written, seconds: busy / 1000 };
}

/** Ingest through the hub: validation, ids, group commit, counters. Input generation is not timed. */
async function hubIngest(store: EventStore, options: StoreBenchOptions, start: number, progress: (done: number) => void): Promise<Ingest> {
  const n = options.events;
  const generator = createEventGenerator({ users: options.users, seed: 42 });
  let clock = start;
  const hub = createHub({ store, bus: createLocalEventBus(), validator: createPayloadValidator(buildSchema([])), now: () => clock });
  // 100 publishers each sending calls of 100 events: each call gets its own timestamp, and the store's group
  // commit merges the calls waiting at once into batches (SQLite up to 10000, MongoDB 1000 per write).
  const perCall = 100;
  const inFlight = 100;
  const deadline = performance.now() + options.seedTimeoutSeconds * 1000;
  let busy = 0;
  let written = 0;
  for (let i = 0; i < n && performance.now() < deadline; i += 10_000) {
    const chunk = Array.from({ length: Math.min(10_000, n - i) }, () => generator.next());
    const t = performance.now();
    const running = new Set<Promise<unknown>>();
    for (let k = 0; k < chunk.length; k += perCall) {
      clock = timestampOf(i + k, n, start, options.days * DAY);
      const call = hub.publishMany(chunk.slice(k, k + perCall)).finally(() => running.delete(call));
      running.add(call);
      if (running.size >= inFlight) await Promise.race(running);
    }
    await Promise.all(running);
    busy += performance.now() - t;
    written += chunk.length;
    if ((i / 10_000) % 20 === 19) progress(written);
  }
  hub.close();
  return { events: written, seconds: busy / 1000 };
}

// ---------------------------------------------------------------------------------------------
// Queries over HTTP

async function timeQueries(server: BenchServer, options: StoreBenchOptions, generator: ReturnType<typeof createEventGenerator>) {
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(`${query.slice(0, 40)}: ${JSON.stringify(body.errors).slice(0, 300)}`);
    return body.data;
  };
  const count = options.samples;
  const day = new Date(Date.now() - Math.floor(options.days / 2) * DAY).toISOString().slice(0, 10);
  const users = Array.from({ length: 50 }, (_, i) => generator.user((i * 997) % Math.round(options.users * 0.8)));
  const PAGE = `query($after: String) { events(first: 50, after: $after) { edges { node { id type timestamp } } pageInfo { endCursor hasNextPage } } }`;

  // The cursor of page 50, walking there page by page (for at most 2 minutes on a slow store).
  let cursor: string | null = null;
  let page = 1;
  const walkEnd = performance.now() + 120_000;
  for (; page < 50 && performance.now() < walkEnd; page++) cursor = (await gql(PAGE, { after: cursor })).events.pageInfo.endCursor;
  const deepPage = cursor;

  const queries: Record<string, Sampled> = {};
  queries['analyticsSummary'] = await sample(() => gql(`query($d: String) { analyticsSummary(date: $d) { total byType { type count } bySource { source count } byLevel { level count } } }`, { d: day }), count);
  queries['timeline (one user, 50)'] = await sample(
    (i) => gql(`query($u: ID!) { timeline(userId: $u, first: 50) { edges { node { id type timestamp } } pageInfo { hasNextPage } } }`, { u: users[i % users.length] }),
    count,
  );
  queries['events page 1'] = await sample(() => gql(PAGE), count);
  queries[`events page ${page}`] = await sample(() => gql(PAGE, { after: deepPage }), count);
  queries['eventRate (7 days, HOUR)'] = await sample(
    () => gql(`query($f: DateTime!, $t: DateTime!) { eventRate(from: $f, to: $t, bucket: HOUR) { total p95 points { count } } }`, { f: new Date(Date.now() - 7 * DAY).toISOString(), t: new Date().toISOString() }),
    count,
  );
  queries['userActivityHeatmap (30 days)'] = await sample(
    (i) => gql(`query($u: ID!) { userActivityHeatmap(userId: $u, days: 30) { total matrix } }`, { u: users[i % users.length] }),
    Math.min(count, 100),
  );
  queries['criticalEvents (24 h, 50)'] = await sample(() => gql(`{ criticalEvents(hours: 24) { edges { node { id } } } }`), Math.min(count, 100));
  queries['errorSummary (24 h)'] = await sample(() => gql(`{ errorSummary { total latest { message } } }`), Math.min(count, 100));
  return queries;
}

/**
 * Streams the whole log through GET /export, discarding it, while the server reports its RSS. Idle is the
 * server's RSS after a GC with no request in flight. Stops after `maxSeconds` (a slow store): the figures are
 * then for the part exported, flagged `partial`.
 */
async function timeExport(server: BenchServer, format: ExportFormat, maxSeconds: number) {
  await server.gc();
  await new Promise((resolve) => setTimeout(resolve, 500));
  server.takeRss();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const idleRss = Math.max(...server.takeRss());
  const started = performance.now();
  let bytes = 0;
  let rows = 0;
  let partial = false;
  try {
    const response = await fetch(`${server.url}/export?format=${format}`, { headers: { authorization: `Bearer ${server.token}` } });
    if (response.status !== 200 || !response.body) throw new Error(`export answered ${response.status}`);
    const reader = response.body.getReader();
    for (;;) {
      if (performance.now() - started > maxSeconds * 1000) {
        partial = true;
        await reader.cancel();
        break;
      }
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      for (let i = 0; i < value.length; i++) if (value[i] === 10) rows++;
    }
  } finally {
    await new Promise((resolve) => setTimeout(resolve, 100)); // the last samples
  }
  const peakRss = Math.max(idleRss, ...server.takeRss());
  // CSV and NDJSON end each record with a newline; the CSV header is one more line (JSON arrays: brackets).
  if (!partial && (format === 'csv' || format === 'json')) rows -= 1;
  return { rows, bytes, seconds: (performance.now() - started) / 1000, idleRss, peakRss, partial };
}

// ---------------------------------------------------------------------------------------------

async function benchStore(kind: StoreKind, options: StoreBenchOptions): Promise<StoreBenchResult> {
  const { log } = options;
  const dataDir = mkdtempSync(join(tmpdir(), `herald-bench-${kind}-`));
  const rawDir = mkdtempSync(join(tmpdir(), `herald-bench-${kind}-raw-`));
  let mongo: TestMongo | undefined;
  let server: BenchServer | undefined;
  try {
    let mongoUrl: string | undefined;
    if (kind === 'mongo') {
      const started = await startMongoForTests();
      if ('skip' in started) throw new Error(started.skip);
      mongo = started;
      mongoUrl = started.url;
    }
    const start = Date.now() - options.days * DAY;

    log(`[${kind}] raw bulk insert of ${options.rawEvents.toLocaleString('en-US')} events...`);
    const raw = await rawInsert(kind, { dataDir: rawDir, mongoUrl: mongoUrl && withDbName(mongoUrl, uniqueDbName()) }, options, start);
    rmSync(rawDir, { recursive: true, force: true });
    log(`[${kind}] raw: ${rate(raw.events / raw.seconds)} (${raw.events.toLocaleString('en-US')} in ${raw.seconds.toFixed(1)} s)`);

    log(`[${kind}] ingest of ${options.events.toLocaleString('en-US')} events through the hub...`);
    const store = kind === 'sqlite' ? createSqliteEventStore({ dataDir }) : await createMongoEventStore({ url: mongoUrl! });
    const hub = await hubIngest(store, options, start, (done) => log(`[${kind}]   ${done.toLocaleString('en-US')} events`));
    await store.close();
    log(`[${kind}] hub: ${rate(hub.events / hub.seconds)} (${hub.events.toLocaleString('en-US')} in ${hub.seconds.toFixed(1)} s)`);

    server = await startBenchServer({ DATA_DIR: dataDir, ...(mongoUrl ? { MONGODB_URL: mongoUrl } : {}) });
    log(`[${kind}] timing queries over HTTP (${options.samples} samples each)...`);
    const queries = await timeQueries(server, options, createEventGenerator({ users: options.users }));
    log(`[${kind}] exporting ${hub.events.toLocaleString('en-US')} events as ${options.exportFormat}...`);
    const exported = await timeExport(server, options.exportFormat, options.exportTimeoutSeconds);
    return { store: kind, events: hub.events, raw, hub, queries, exported };
  } finally {
    await server?.stop().catch(() => {});
    await mongo?.stop().catch(() => {}); // drops the database on MONGODB_URL, deletes a throwaway FerretDB
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(rawDir, { recursive: true, force: true });
  }
}

const TARGET_MS = 20;
const EXPORT_RSS_BUDGET = 100 * 1024 * 1024;

export function report(results: readonly StoreBenchResult[]): string {
  const rows: string[][] = [['store', 'events', 'measure', 'p50', 'p95', 'target', 'result']];
  for (const r of results) {
    const head = [r.store, r.events.toLocaleString('en-US')];
    for (const [name, s] of Object.entries(r.queries)) {
      const targeted = r.store === 'sqlite' && (name === 'analyticsSummary' || name.startsWith('timeline'));
      rows.push([...head, `${name}${s.samples < 10 ? ` (${s.samples} sample${s.samples === 1 ? '' : 's'})` : ''}`, ms(s.p50), ms(s.p95), targeted ? `p95 <= ${TARGET_MS} ms` : '-', targeted ? (s.p95 <= TARGET_MS ? 'PASS' : 'MISS') : '']);
    }
    const rawRate = r.raw.events / r.raw.seconds;
    const hubRate = r.hub.events / r.hub.seconds;
    rows.push([...head, 'raw bulk insert', rate(rawRate), '', '', '']);
    rows.push([...head, 'ingest through hub', rate(hubRate), `${Math.round((hubRate / rawRate) * 100)}% of raw`, '>= 50% of raw', hubRate >= rawRate / 2 ? 'PASS' : 'MISS']);
    const growth = r.exported.peakRss - r.exported.idleRss;
    rows.push([
      ...head,
      `export (${r.exported.partial ? 'PARTIAL, stopped after ' : ''}${r.exported.rows.toLocaleString('en-US')} rows, ${mb(r.exported.bytes)}, ${r.exported.seconds.toFixed(1)} s)`,
      `idle ${mb(r.exported.idleRss)}`,
      `peak ${mb(r.exported.peakRss)} (+${mb(growth)})`,
      '<= idle + 100 MB',
      growth <= EXPORT_RSS_BUDGET ? 'PASS' : 'MISS',
    ]);
  }
  return table(rows);
}

export async function runStoreBench(options: StoreBenchOptions): Promise<StoreBenchResult[]> {
  const results: StoreBenchResult[] = [];
  for (const kind of options.stores) {
    try {
      results.push(await benchStore(kind, options));
    } catch (error) {
      options.log(`[${kind}] skipped: ${(error as Error).message}`);
    }
  }
  options.log('');
  options.log(report(results));
  return results;
}
