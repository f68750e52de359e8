/**
 * The processes of the fan-out benchmark, seen from its driver: the server under test (Herald through
 * test/bench/serve.ts, or the raw baseline test/bench/fanout-raw.ts), each in its own process with `--expose-gc`;
 * the load processes (test/bench/fanout-load.ts); and the publisher, which stays in the driver and publishes over
 * HTTP on 127.0.0.1 — to Herald through the real path (`publishEvent` with a `service` token), to the baseline
 * with a `POST /publish` that costs it as little as possible.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jwt from 'jsonwebtoken';
import { examplePayload } from '../../src/events/examples.js';
import { ask } from './fanout-shared.js';
import type { ConnectAnswer, ConnectRequest, LoadStats, ServerKind, Transport } from './fanout-load.js';

export const JWT_SECRET = 'fanout-bench-secret-long-enough-for-hs256-0123456789';
const TSX = ['--import', 'tsx'];
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export interface MemorySample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  /** Process CPU time (user + system) so far, ms. */
  readonly cpuMs: number;
}

export interface ServerHandle {
  readonly kind: ServerKind;
  readonly url: string;
  /** Memory now; after two full collections when `gc`. */
  mem(gc: boolean): Promise<MemorySample>;
  /** Writes a V8 heap snapshot of the server (after full collections) to `path`. */
  snapshot(path: string): Promise<void>;
  /** Highest RSS reported since the last call (ticks every 100 ms). */
  takePeakRss(): number;
  /** Live connections as the server counts them (Herald: `connectionStats.total`), or null if unknown. */
  connections(): Promise<number | null>;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Extra environment for Herald (e.g. limits). */
  readonly env?: Record<string, string>;
}

export async function startServer(kind: ServerKind, options: ServerOptions = {}): Promise<ServerHandle> {
  const dataDir = kind === 'herald' ? mkdtempSync(join(tmpdir(), 'herald-fanout-')) : undefined;
  const child: ChildProcess = fork(here(kind === 'herald' ? './serve.ts' : './fanout-raw.ts'), [], {
    // BENCH_SERVER_NODE_ARGS adds Node flags to the measured server only (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
    execArgv: ['--expose-gc', ...(process.env['BENCH_SERVER_NODE_ARGS']?.split(' ').filter(Boolean) ?? []), ...TSX],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      JWT_SECRET,
      BENCH_RSS_TICK_MS: '100',
      ...(dataDir ? { DATA_DIR: dataDir } : {}),
      ...options.env,
    },
  });
  let peak = 0;
  child.on('message', (m: { rss?: number }) => {
    if (typeof m?.rss === 'number' && m.rss > peak) peak = m.rss;
  });
  const cleanup = () => dataDir && rmSync(dataDir, { recursive: true, force: true });
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind} server did not start within 60 s`)), 60_000);
      child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code} before listening`)));
      child.on('message', (m: { url?: string }) => {
        if (m?.url) {
          clearTimeout(timer);
          resolve(m.url);
        }
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    cleanup();
    throw error;
  }
  const adminToken = jwt.sign({ sub: 'adm_bench_stats', role: 'admin' }, JWT_SECRET, { algorithm: 'HS256', expiresIn: '6h' });
  return {
    kind,
    url,
    async mem(gc) {
      const answer = await ask<{ mem: NodeJS.MemoryUsage; cpu: NodeJS.CpuUsage }>(child, { cmd: 'mem', gc }, 120_000);
      return { rss: answer.mem.rss, heapUsed: answer.mem.heapUsed, heapTotal: answer.mem.heapTotal, external: answer.mem.external, cpuMs: (answer.cpu.user + answer.cpu.system) / 1000 };
    },
    async snapshot(path) {
      await ask(child, { cmd: 'snapshot', path }, 300_000);
    },
    takePeakRss() {
      const p = peak;
      peak = 0;
      return p;
    },
    async connections() {
      try {
        if (kind === 'raw') {
          const a = await ask<{ ws: number; sse: number }>(child, { cmd: 'connections' }, 10_000);
          return a.ws + a.sse;
        }
        const body = await postJson(`${url}/graphql`, JSON.stringify({ query: '{ connectionStats { total } }' }), adminToken, 10_000);
        return (JSON.parse(body.text) as { data?: { connectionStats?: { total?: number } } }).data?.connectionStats?.total ?? null;
      } catch {
        return null;
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Load processes

export interface LoadHandle {
  connect(request: Omit<ConnectRequest, 'cmd'>): Promise<ConnectAnswer>;
  stall(request: Omit<ConnectRequest, 'cmd'>): Promise<ConnectAnswer>;
  phase(phase: number): Promise<void>;
  count(): Promise<{ received: number; seen: number; lastAt: number }>;
  stats(): Promise<LoadStats>;
  warm(): Promise<{ warm: number; open: number }>;
  close(): Promise<void>;
  stop(): void;
}

export async function startLoad(): Promise<LoadHandle> {
  const child = fork(here('./fanout-load.ts'), [], { execArgv: TSX, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`load process exited with ${code}`)));
    child.on('message', (m: { ready?: boolean }) => m?.ready && resolve());
  });
  const timeoutOf = (r: { timeoutMs?: number }) => (r.timeoutMs ?? 120_000) + 30_000;
  return {
    connect: (r) => ask<ConnectAnswer>(child, { ...r, cmd: 'connect' }, timeoutOf(r)),
    stall: (r) => ask<ConnectAnswer>(child, { ...r, cmd: 'stall' }, timeoutOf(r)),
    phase: async (phase) => void (await ask(child, { cmd: 'phase', phase })),
    count: () => ask(child, { cmd: 'count' }, 30_000),
    stats: async () => (await ask<{ stats: LoadStats }>(child, { cmd: 'stats' }, 60_000)).stats,
    warm: () => ask(child, { cmd: 'warm' }, 30_000),
    close: async () => void (await ask(child, { cmd: 'close' }, 60_000)),
    stop: () => child.kill('SIGTERM'),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Publisher

const publishAgent = new Agent({ keepAlive: true, maxSockets: 64 });

function postJson(url: string, body: string, token: string | undefined, timeoutMs: number, track?: Set<ClientRequest>): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: publishAgent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    track?.add(req);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('close', () => track?.delete(req));
    req.end(body);
  });
}

/** `aborted`: still unanswered when the phase ended (the server may yet act on it). */
export type PublishOutcome = 'ok' | 'failed' | 'aborted';

export interface Publisher {
  /** Publishes one order_created carrying `orderId`, broadcast to customers (userId null) or to one customer. */
  publish(orderId: string, userId: string | null): Promise<PublishOutcome>;
  /** Publishes one order_created per order id to `userId` in one request (`publishEvents`); @returns how many were acknowledged. */
  publishBatch(orderIds: readonly string[], userId: string): Promise<number>;
  /** The first failure's message, if any. */
  readonly errorSample: string | undefined;
  /** Publishes still waiting for an answer. */
  readonly pending: number;
  /** Gives up on the publishes still waiting (they resolve `aborted`); @returns how many there were. */
  abort(): number;
}

const ABORTED = 'aborted at the end of the phase';
const PUBLISH_BATCH_MUTATION = 'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }';
const PUBLISH_MUTATION = 'mutation($input: PublishEventInput!) { publishEvent(input: $input) { id } }';

export function createPublisher(server: ServerHandle, timeoutMs = 30_000): Publisher {
  const inFlight = new Set<ClientRequest>();
  let errorSample: string | undefined;
  let pending = 0;
  const token = jwt.sign({ sub: 'bench-publisher', role: 'service' }, JWT_SECRET, { algorithm: 'HS256', expiresIn: '6h' });
  // Serialized once; each publish only substitutes the order id (and the customer).
  const template = (userId: string | null) =>
    JSON.stringify({
      query: PUBLISH_MUTATION,
      variables: {
        input: {
          type: 'ORDER_CREATED',
          ...(userId === null ? { roles: ['CUSTOMER'] } : { userId }),
          source: 'bench-fanout',
          data: examplePayload('order_created', { orderId: '@OID@', ...(userId === null ? {} : { customerId: userId }) }),
        },
      },
    });
  const broadcastBody = template(null);
  const userBody = template('@UID@');
  const herald = server.kind === 'herald';
  const url = herald ? `${server.url}/graphql` : `${server.url}/publish`;

  return {
    get errorSample() {
      return errorSample;
    },
    get pending() {
      return pending;
    },
    async publish(orderId, userId) {
      const body = herald
        ? (userId === null ? broadcastBody : userBody.replaceAll('@UID@', userId)).replace('@OID@', orderId)
        : JSON.stringify({ orderId, userId });
      pending++;
      try {
        const res = await postJson(url, body, herald ? token : undefined, timeoutMs, inFlight);
        const ok = res.status === 200 && (herald ? res.text.includes('"publishEvent":{"id"') : res.text.includes('"ok":true'));
        if (!ok) errorSample ??= `HTTP ${res.status}: ${res.text.slice(0, 300)}`;
        return ok ? 'ok' : 'failed';
      } catch (error) {
        if ((error as Error).message === ABORTED) return 'aborted';
        errorSample ??= (error as Error).message;
        return 'failed';
      } finally {
        pending--;
      }
    },
    async publishBatch(orderIds, userId) {
      const body = herald
        ? JSON.stringify({
            query: PUBLISH_BATCH_MUTATION,
            variables: { inputs: orderIds.map((orderId) => ({ type: 'ORDER_CREATED', userId, source: 'bench-fanout', data: examplePayload('order_created', { orderId, customerId: userId }) })) },
          })
        : JSON.stringify({ orderIds, userId });
      try {
        const res = await postJson(url, body, herald ? token : undefined, timeoutMs, inFlight);
        if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 300)}`);
        const answer = JSON.parse(res.text) as { data?: { publishEvents?: unknown[] }; ok?: boolean; count?: number; errors?: unknown };
        if (herald && !answer.data?.publishEvents) throw new Error(`publishEvents: ${res.text.slice(0, 300)}`);
        return herald ? answer.data!.publishEvents!.length : (answer.count ?? 0);
      } catch (error) {
        errorSample ??= (error as Error).message;
        return 0;
      }
    },
    abort() {
      const n = inFlight.size;
      for (const req of inFlight) req.destroy(new Error(ABORTED));
      return n;
    },
  };
}

export type { ServerKind, Transport };
