/**
 * Load and fault run: `npm run bench -- soak [--seconds 150] [--rate 100] [--publishers 4] [--batch 5]
 *   [--customers 8] [--suppliers 8] [--kills 2] [--down-ms 1000] [--fail-every 40] [--drain 60] [--rss-every 3]
 *   [--mongo] [--runtime build|tsx] [--seed 1] [--node-args=--max-old-space-size=96]`.
 * Short smoke: `npm run bench -- soak --seconds 20`. On FerretDB (`--mongo` without MONGODB_URL) use a lower rate,
 * e.g. `--mongo --rate 20`: it commits far fewer events per second than SQLite or MongoDB.
 *
 * Herald (the production build, NODE_ENV=production, in its own process: soak-server.ts) on one port and one data
 * directory (SQLite; `--mongo`: MongoDB at MONGODB_URL, else a throwaway FerretDB) serves, for --seconds:
 * - publishers (soak-publishers.ts) at --rate events/s over HTTP with idempotency keys, retrying through restarts;
 * - subscribers on both transports (soak-subscribers.ts): per customer and per supplier one graphql-ws client
 *   resuming with `after` and one EventSource resuming with Last-Event-ID, plus one admin on each, all from one
 *   start cursor;
 * - a webhook endpoint per supplier (registered through the API) on a real receiver that verifies signatures and
 *   fails one request in --fail-every (soak-webhooks.ts).
 * Meanwhile the server is SIGKILLed --kills times, evenly spaced, and started again after --down-ms on the same
 * port and data. Then publishing stops, deliveries get up to --drain seconds to finish, the log is read back by an
 * admin, and soak-check.ts compares ids. Prints the counts, the server's RSS over time (/proc/<pid>/status every
 * --rss-every seconds) and a final PASS or FAIL line; exits 1 on FAIL. Ends the last server with SIGTERM (a
 * graceful shutdown, timed). Traffic stays on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { signDevToken } from '../../src/auth/tokens.js';
import { examplePayload } from '../../src/events/examples.js';
import { freePort } from '../utils/ports.js';
import { buildHerald } from './build.js';
import { mb, table } from './stats.js';
import { createSoakServer, type RssSample } from './soak-server.js';
import { startPublishers } from './soak-publishers.js';
import { startSseSubscriber, startWsSubscriber, type Subscriber } from './soak-subscribers.js';
import { startWebhookReceivers } from './soak-webhooks.js';
import { failures, judge, type LogEntry, type Verdict } from './soak-check.js';
import { customerId, epochsSeen, seqOf, supplierId, type SoakViewer } from './soak-model.js';

const JWT_SECRET = 'soak-run-secret-that-is-long-enough-for-hs256-0123456789';
const METRICS_TOKEN = 'soak-run-metrics-token-0123456789';

export interface SoakOptions {
  readonly seconds: number;
  readonly rate: number;
  readonly publishers: number;
  readonly batch: number;
  readonly customers: number;
  readonly suppliers: number;
  readonly kills: number;
  readonly downMs: number;
  readonly failEvery: number;
  readonly drainSeconds: number;
  readonly rssEverySeconds: number;
  readonly mongo: boolean;
  readonly runtime: 'build' | 'tsx';
  readonly seed: number;
  /** Node options for the server (space-separated), e.g. a small heap to tell a leak from garbage not yet collected. */
  readonly nodeArgs: readonly string[];
}

function parse(argv: string[]): SoakOptions {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'soak'),
    options: {
      seconds: { type: 'string', default: '150' },
      rate: { type: 'string', default: '100' },
      publishers: { type: 'string', default: '4' },
      batch: { type: 'string', default: '5' },
      customers: { type: 'string', default: '8' },
      suppliers: { type: 'string', default: '8' },
      kills: { type: 'string', default: '2' },
      'down-ms': { type: 'string', default: '1000' },
      'fail-every': { type: 'string', default: '40' },
      drain: { type: 'string', default: '60' },
      'rss-every': { type: 'string', default: '3' },
      mongo: { type: 'boolean', default: false },
      runtime: { type: 'string', default: 'build' },
      seed: { type: 'string', default: '1' },
      'node-args': { type: 'string', default: '' },
    },
    strict: true,
  });
  const int = (name: keyof typeof values, min: number) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${String(values[name])}`);
    return n;
  };
  if (values.runtime !== 'build' && values.runtime !== 'tsx') throw new Error('--runtime must be build or tsx');
  return {
    seconds: int('seconds', 5),
    rate: int('rate', 1),
    publishers: int('publishers', 1),
    batch: int('batch', 1),
    customers: int('customers', 1),
    suppliers: int('suppliers', 1),
    kills: int('kills', 0),
    downMs: int('down-ms', 0),
    failEvery: int('fail-every', 0),
    drainSeconds: int('drain', 1),
    rssEverySeconds: int('rss-every', 1),
    mongo: values.mongo!,
    runtime: values.runtime,
    seed: int('seed', 0),
    nodeArgs: String(values['node-args']).split(' ').filter(Boolean),
  };
}

/** mulberry32: the event mix is the same for the same seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function gql<T = any>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`${response.status}: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return body.data!;
}

/** The soak events in the log, oldest first, as an admin reads them. */
async function readLog(graphqlUrl: string, token: string): Promise<LogEntry[]> {
  const query = `query($after: String) {
    events(filter: { sources: ["soak-orders", "soak-wallets"] }, first: 500, after: $after, order: OLDEST_FIRST) {
      edges { node { id cursor } } pageInfo { endCursor hasNextPage }
    }
  }`;
  const out: LogEntry[] = [];
  let after: string | null = null;
  for (;;) {
    const page: any = await gql(graphqlUrl, token, query, { after });
    for (const edge of page.events.edges) out.push({ id: edge.node.id, seq: seqOf(edge.node.cursor) });
    if (!page.events.pageInfo.hasNextPage) return out;
    after = page.events.pageInfo.endCursor;
  }
}

/** A few series of /metrics worth printing beside the verdict (sums over their labels). */
async function scrapeMetrics(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const sum = (pattern: RegExp) => [...text.matchAll(pattern)].reduce((s, m) => s + Number(m[1]), 0);
  return {
    'webhook attempts succeeded': sum(/^herald_webhook_attempts_total\{outcome="succeeded"\} (\S+)$/gm),
    'webhook attempts retrying': sum(/^herald_webhook_attempts_total\{outcome="retrying"\} (\S+)$/gm),
    'subscriptions resumed': sum(/^herald_subscriptions_total\{outcome="resumed"\} (\S+)$/gm),
    'live sessions': sum(/^herald_sessions\{[^}]*\} (\S+)$/gm),
  };
}

function rssTable(samples: readonly RssSample[], everySeconds: number): string {
  // One row per ~5 samples keeps the table readable; each incarnation's first and last sample are always shown.
  const stride = Math.max(1, Math.round(5 / everySeconds));
  const rows = samples.filter((s, i) => i % stride === 0 || samples[i - 1]?.incarnation !== s.incarnation || samples[i + 1]?.incarnation !== s.incarnation);
  return table([['t (s)', 'process', 'RSS', 'V8 heap used'], ...rows.map((s) => [s.t.toFixed(0), `#${s.incarnation}`, mb(s.rssBytes), s.heapUsedBytes === undefined ? '-' : mb(s.heapUsedBytes)])]);
}

function printVerdict(verdict: Verdict) {
  const group = (name: string) => {
    const rows = verdict.subscribers.filter((s) => s.name.startsWith(name));
    const sum = (f: (s: (typeof rows)[number]) => number) => String(rows.reduce((a, s) => a + f(s), 0));
    return [name, String(rows.length), sum((s) => s.expected), sum((s) => s.received), sum((s) => s.gaps), sum((s) => s.duplicates), sum((s) => s.outOfOrder), sum((s) => s.unexpected)];
  };
  console.log(
    table([
      ['subscribers', 'n', 'expected', 'received', 'gaps', 'duplicates', 'out of order', 'unexpected'],
      ...['ws customer', 'ws supplier', 'ws admin', 'sse customer', 'sse supplier', 'sse admin'].map(group),
    ]),
  );
  const w = verdict.webhooks;
  const sum = (f: (r: (typeof w)[number]) => number) => String(w.reduce((a, r) => a + f(r), 0));
  console.log(
    table([
      ['webhook endpoints', 'n', 'expected', 'delivered', 'missing', 'delivered twice', 'unexpected', 'bad signature'],
      ['supplier endpoints', String(w.length), sum((r) => r.expected), sum((r) => r.delivered), sum((r) => r.missing), sum((r) => r.duplicated), sum((r) => r.unexpected), sum((r) => r.badSignatures)],
    ]),
  );
}

export async function main(argv: string[]): Promise<void> {
  const options = parse(argv);
  const random = seeded(options.seed);
  const startedAt = Date.now();
  const elapsed = () => ((Date.now() - startedAt) / 1000).toFixed(1).padStart(6);
  const say = (line: string) => console.log(`[${elapsed()} s] ${line}`);

  const distDir = options.runtime === 'build' ? buildHerald(fileURLToPath(new URL('../../src', import.meta.url))) : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-soak-'));
  let mongo: { url: string; stop(): Promise<void> } | undefined;
  if (options.mongo) {
    const { startMongoForTests } = await import('../utils/mongo.js');
    const started = await startMongoForTests();
    if ('skip' in started) throw new Error(started.skip);
    mongo = started;
  }
  const port = await freePort();
  // FerretDB under the whole reconnecting load answers /ready slowly after a restart (see docs/operations.md).
  const readyTimeoutMs = mongo ? 240_000 : 60_000;
  const server = createSoakServer({
    port,
    distDir,
    nodeArgs: options.nodeArgs,
    startedAt,
    sampleEveryMs: options.rssEverySeconds * 1000,
    metricsToken: METRICS_TOKEN,
    readyTimeoutMs,
    onStderr: (line) => say(`server: ${line.slice(0, 300)}`),
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      JWT_SECRET,
      METRICS_TOKEN,
      DATA_DIR: dataDir,
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '0,250ms,500ms,1s,2s,4s,8s,15s',
      ...(mongo ? { MONGODB_URL: mongo.url } : {}),
    },
  });
  const token = (sub: string, role: 'customer' | 'supplier' | 'admin' | 'service') => signDevToken(JWT_SECRET, { sub, role, expiresIn: '6h' });
  const admin = token('adm_soak', 'admin');
  const receivers = await startWebhookReceivers({ failEvery: options.failEvery });
  const subscribers: Subscriber[] = [];
  let exitCode = 1;
  try {
    say(`Herald (${options.runtime === 'build' ? 'dist/, node' : 'src/, tsx'}, ${mongo ? 'MongoDB' : 'SQLite'}) on ${server.url}; ${options.seconds} s at ${options.rate} ev/s, ${options.kills} SIGKILLs`);
    await server.start();

    for (let i = 0; i < options.suppliers; i++) {
      const endpoint = receivers.add(supplierId(i));
      const created = await gql(server.graphqlUrl, token(endpoint.ownerId, 'supplier'), `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`, {
        input: { url: `${receivers.origin}${endpoint.path}`, eventTypes: ['ORDER_CREATED'] },
      });
      endpoint.secret = created.createWebhookEndpoint.secret;
    }
    // The start cursor: every subscriber resumes after it, so what each may see is exact whatever the timing.
    const sentinel = await gql(server.graphqlUrl, token('svc_soak_start', 'service'), `mutation($input: PublishEventInput!) { publishEvent(input: $input) { cursor } }`, {
      input: { type: 'WALLET_UPDATED', userId: 'cus_soak_nobody', source: 'soak-start', data: examplePayload('wallet_updated') },
    });
    const after = sentinel.publishEvent.cursor as string;
    const startSeq = seqOf(after);
    const wsUrl = server.graphqlUrl.replace(/^http/, 'ws');
    const viewers: Array<{ label: string; viewer: SoakViewer }> = [
      ...Array.from({ length: options.customers }, (_, i) => ({ label: 'customer', viewer: { sub: customerId(i), role: 'customer' as const } })),
      ...Array.from({ length: options.suppliers }, (_, i) => ({ label: 'supplier', viewer: { sub: supplierId(i), role: 'supplier' as const } })),
      { label: 'admin', viewer: { sub: 'adm_soak', role: 'admin' as const } },
    ];
    for (const { label, viewer } of viewers) {
      const t = token(viewer.sub, viewer.role);
      subscribers.push(startWsSubscriber({ name: `ws ${label} ${viewer.sub}`, wsUrl, token: t, viewer, after }));
      subscribers.push(startSseSubscriber({ name: `sse ${label} ${viewer.sub}`, graphqlUrl: server.graphqlUrl, token: t, viewer, after }));
    }
    const deadline = Date.now() + 30_000;
    while (subscribers.some((s) => s.record.connects === 0)) {
      if (Date.now() > deadline) throw new Error('subscribers did not connect within 30 s');
      await sleep(50);
    }
    say(`${options.suppliers} webhook endpoints, ${subscribers.length} subscribers connected from cursor ${after}; publishing`);

    const publishers = startPublishers({
      graphqlUrl: server.graphqlUrl,
      tokens: Array.from({ length: options.publishers }, (_, i) => token(`svc_soak_${i}`, 'service')),
      rate: options.rate,
      batch: options.batch,
      customers: options.customers,
      suppliers: options.suppliers,
      // A publisher retries for as long as this run waits for a restart: giving up earlier would leave events
      // committed but never acknowledged (they would then show up as unexpected receipts).
      giveUpMs: readyTimeoutMs + 30_000,
      random,
    });
    const receipts = () => subscribers.reduce((s, x) => s + x.record.receipts.length, 0);
    const delivered = () => receivers.endpoints.reduce((s, e) => s + e.accepted.size, 0);
    const progress = setInterval(() => {
      const last = server.rss.at(-1);
      say(`acked ${publishers.acked.length}, receipts ${receipts()}, webhooks delivered ${delivered()}, RSS ${last ? mb(last.rssBytes) : '-'}`);
    }, 10_000);
    const publishStart = Date.now();
    const killTimes: number[] = [];
    // Evenly spaced, but each process serves at least a third of a slot after it was ready (restarts are slow on a busy machine).
    const slotMs = (options.seconds * 1000) / (options.kills + 1);
    let readyAt = publishStart;
    for (let k = 1; k <= options.kills; k++) {
      await sleep(Math.max(publishStart + slotMs * k, readyAt + slotMs / 3) - Date.now());
      const pid = server.pid;
      const exit = await server.kill('SIGKILL');
      killTimes.push((Date.now() - startedAt) / 1000);
      say(`SIGKILL ${k}/${options.kills}: pid ${pid} ended (${exit.signal ?? exit.code}) with ${publishers.acked.length} events acknowledged; down for ${options.downMs} ms`);
      await sleep(options.downMs);
      const before = Date.now();
      await server.start();
      readyAt = Date.now();
      say(`restarted as pid ${server.pid} on the same port and data, ready in ${readyAt - before} ms`);
    }
    await sleep(Math.max(publishStart + options.seconds * 1000, readyAt + slotMs / 3) - Date.now());
    await publishers.stop();
    const publishedFor = (Date.now() - publishStart) / 1000;
    say(
      `publishing stopped after ${publishedFor.toFixed(0)} s: ${publishers.acked.length} events acknowledged (${(publishers.acked.length / publishedFor).toFixed(0)} ev/s including downtime) in ${publishers.stats.calls} calls (${publishers.stats.retriedCalls} answered after retries)`,
    );

    // Drain: until every subscriber and endpoint has everything, or nothing moved for 20 s, or --drain passed.
    const pending = () => {
      const v = judge({ acked: publishers.acked, log: [], startSeq, subscribers: subscribers.map((s) => s.record), endpoints: receivers.endpoints });
      return v.subscribers.reduce((s, x) => s + x.gaps, 0) + v.webhooks.reduce((s, x) => s + x.missing, 0);
    };
    const drainEnd = Date.now() + options.drainSeconds * 1000;
    let lastProgress = Date.now();
    let lastSeen = -1;
    for (let left = pending(); left > 0 && Date.now() < drainEnd && Date.now() - lastProgress < 20_000; left = pending()) {
      const moved = receipts() + delivered();
      if (moved !== lastSeen) {
        lastSeen = moved;
        lastProgress = Date.now();
      }
      await sleep(250);
    }
    clearInterval(progress);
    say(`drained: ${pending()} receipts or deliveries still missing`);
    await sleep(2000); // late duplicates, if any, arrive now rather than go unseen

    const log = await readLog(server.graphqlUrl, admin);
    const metrics = await scrapeMetrics(server.url).catch((): Record<string, number> => ({}));
    const records = subscribers.map((s) => s.record);
    for (const s of subscribers.splice(0)) await s.close();
    const stopAt = Date.now();
    const stop = await server.kill('SIGTERM');
    const shutdownMs = Date.now() - stopAt;

    const verdict = judge({ acked: publishers.acked, log, startSeq, subscribers: records, endpoints: receivers.endpoints });
    const stats = publishers.stats;
    console.log('\n--- soak results ---');
    console.log(
      table([
        ['publishing', ''],
        ['events acknowledged', String(verdict.acknowledged)],
        ['calls (publishEvent + publishEvents)', String(stats.calls)],
        ['calls answered only after retries', `${stats.retriedCalls} (${stats.retries} retries)`],
        ['failures seen while retrying', [...stats.failures].map(([k, n]) => `${k} x${n}`).join('; ') || 'none'],
        ['requests refused or given up', `${stats.fatal.length} (${stats.abandonedEvents} events)`],
        ['soak events in the log', String(log.length)],
        ['acknowledged events lost', String(verdict.lost)],
        ['acknowledged at another position', String(verdict.moved)],
        ['in the log, never acknowledged', String(verdict.unacknowledgedInLog)],
        ['log epochs in the cursors seen', [...epochsSeen].join(', ')],
      ]),
    );
    printVerdict(verdict);
    const ends = new Map<string, number>();
    for (const r of records) for (const [why, n] of r.ends) ends.set(`${r.transport}: ${why}`, (ends.get(`${r.transport}: ${why}`) ?? 0) + n);
    console.log(`subscriber connections ended: ${[...ends].map(([k, n]) => `${k} x${n}`).join('; ') || 'none'}; SSE streams reopened: ${records.reduce((s, r) => s + r.reopens, 0)}`);
    const injected = receivers.endpoints.reduce((s, e) => s + e.injectedFailures, 0);
    console.log(`webhook requests: ${receivers.endpoints.reduce((s, e) => s + e.requests, 0)} (${injected} answered 503 on purpose)`);
    console.log(`/metrics at the end (last process): ${Object.entries(metrics).map(([k, v]) => `${k} ${v}`).join(', ') || 'not scraped'}`);
    console.log(`SIGKILLs at ${killTimes.map((t) => `${t.toFixed(0)} s`).join(', ') || 'none'}; final SIGTERM: exit ${stop.code ?? stop.signal} after ${shutdownMs} ms`);
    console.log(`\nserver memory (RSS from /proc/<pid>/status every ${options.rssEverySeconds} s; heap from its /metrics):`);
    console.log(rssTable(server.rss, options.rssEverySeconds));
    for (const n of [1, 2, 3].filter((n) => n <= server.incarnation)) {
      const own = server.rss.filter((s) => s.incarnation === n);
      if (own.length) console.log(`process #${n}: first ${mb(own[0]!.rssBytes)}, peak ${mb(Math.max(...own.map((s) => s.rssBytes)))}, last ${mb(own.at(-1)!.rssBytes)}`);
    }

    const broken = failures(verdict);
    if (stats.fatal.length) broken.push(`publishers: ${stats.fatal.length} requests refused or given up (first: ${stats.fatal[0]})`);
    const resultErrors = records.flatMap((r) => r.resultErrors);
    if (resultErrors.length) broken.push(`subscribers: ${resultErrors.length} GraphQL errors on open subscriptions (first: ${resultErrors[0]})`);
    if (epochsSeen.size !== 1) broken.push(`cursors name ${epochsSeen.size} log epochs (${[...epochsSeen].join(', ')}), not one`);
    if (killTimes.length !== options.kills) broken.push(`${killTimes.length} of ${options.kills} SIGKILLs happened`);
    if (stop.code !== 0) broken.push(`the final SIGTERM ended the server with ${stop.code ?? stop.signal}, not 0`);
    const bad = receivers.endpoints.flatMap((e) => e.badSignatures);
    if (bad.length) broken.push(`first bad signature: ${bad[0]}`);
    console.log(
      broken.length === 0
        ? `\nPASS: ${verdict.acknowledged} acknowledged events, 0 lost; ${records.length} subscribers, 0 gaps, 0 duplicates, 0 out of order; ${verdict.webhooks.reduce((s, w) => s + w.expected, 0)} webhook deliveries expected, 0 missing (${verdict.webhooks.reduce((s, w) => s + w.duplicated, 0)} delivered twice after a crash); ${options.kills} SIGKILLs`
        : `\nFAIL:\n${broken.map((b) => `  - ${b}`).join('\n')}`,
    );
    exitCode = broken.length === 0 ? 0 : 1;
  } finally {
    for (const s of subscribers) await s.close();
    await server.dispose();
    await receivers.close();
    await mongo?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    process.exitCode = exitCode;
  }
}
