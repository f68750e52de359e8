/**
 * A bounded fuzz run against a real Herald child process: N random graphql-ws frames (mutated valid messages, random
 * bytes, random JSON shapes, now and then an oversized one) on many sockets, and M random GraphQL documents (mutated
 * from the schema's real operations) over HTTP, WebSocket and SSE. Seeded: the seed is printed, and
 * `HERALD_FUZZ_SEED=<seed>` replays the same run (`HERALD_FUZZ_FRAMES` / `HERALD_FUZZ_DOCUMENTS` change the counts).
 *
 * Asserted: the process never exits; every answer is well formed (JSON frames of the protocol's server types, HTTP
 * statuses of the documented set, every error code from the known set, never INTERNAL_SERVER_ERROR, close codes
 * from the documented set); a normal client is served afterwards; and the heap after a forced GC (through the Node
 * inspector of the child, bound to 127.0.0.1; no endpoint is added to Herald) grew by less than HEAP_GROWTH_BOUND.
 * Webhook registration is left out of the corpus: a mutated URL could make the SSRF guard resolve a random host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createChildServer, type ChildServer } from '../utils/child-server.js';
import { deferred, waitFor } from '../utils/deferred.js';
import { examplePayload } from '../../src/events/examples.js';

const SEED = Number(process.env['HERALD_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const FRAMES = Number(process.env['HERALD_FUZZ_FRAMES'] ?? 2000);
const DOCUMENTS = Number(process.env['HERALD_FUZZ_DOCUMENTS'] ?? 800);
/**
 * Heap growth allowed between the warm-up and the end, both measured after a forced GC. It covers the parse and
 * validation caches filling up (LRU, at most 1,000 documents each, up to 4 MB of source text): every fuzzed
 * document is new. A leak per socket or per request would pass it within a few runs' worth of input; sessions and
 * subscriptions are also checked to be all gone.
 */
const HEAP_GROWTH_BOUND = 24 * 1024 * 1024;
const TIME_BOUND_MS = 30_000;

/** mulberry32: small, fast, seeded. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

/** Error codes Herald documents (README "Errors") and graphql-js/Yoga's own for parse/validation. */
const KNOWN_CODES = new Set([
  'BAD_USER_INPUT', 'UNAUTHENTICATED', 'TOKEN_EXPIRED', 'TOKEN_INVALID', 'TOKEN_REVOKED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT',
  'QUERY_TOO_COMPLEX', 'REQUEST_TOO_LARGE', 'BAD_REQUEST', 'METHOD_NOT_ALLOWED', 'UNSUPPORTED_MEDIA_TYPE', 'TOO_MANY_SUBSCRIPTIONS',
  'TOO_MANY_CONNECTIONS', 'RATE_LIMITED', 'CURSOR_UNKNOWN', 'CURSOR_EXPIRED', 'UNSAFE_URL', 'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED', 'OPERATION_RESOLUTION_FAILURE', 'LENGTH_REQUIRED',
]);
const HTTP_STATUSES = new Set([200, 400, 401, 403, 404, 405, 409, 410, 411, 413, 415, 429]);
/** Close codes the README documents: normal, going away, invalid UTF-8, too big, and graphql-ws's/Herald's. */
const CLOSE_CODES = new Set([1000, 1001, 1005, 1006, 1007, 1009, 4400, 4401, 4403, 4406, 4408, 4409, 4429, 4029, 4030, 4031, 4032]);
const SERVER_TYPES = new Set(['connection_ack', 'next', 'error', 'complete', 'ping', 'pong']);

/** The schema's real operations (webhook registration left out, see above). */
const OPERATIONS = [
  '{ viewer { userId role receivableTypes } }',
  'query($id: ID!) { event(id: $id) { id type level userId timestamp cursor } }',
  'query($f: EventFilter, $n: Int, $a: String) { events(filter: $f, first: $n, after: $a) { edges { cursor node { id type ... on OrderCreatedEvent { orderId amount currency } } } pageInfo { endCursor hasNextPage } } }',
  '{ connectionStats { total distinctUsers byTransport { transport count } byRole { role count } eventsLastMinute } }',
  '{ analyticsSummary { date total byType { type count } bySource { source count } byLevel { level count } } }',
  '{ criticalEvents(hours: 24, first: 5) { edges { node { id level } } } }',
  'query($u: ID!) { timeline(userId: $u, first: 5) { edges { node { id } } } }',
  '{ errorSummary(hours: 24, latest: 5) { total } }',
  'query($u: ID!) { userActivityHeatmap(userId: $u, days: 7) { userId } }',
  '{ eventRate(from: "2020-01-01T00:00:00Z", to: "2020-01-02T00:00:00Z", bucket: HOUR) { total } }',
  '{ webhookEndpoints { id url eventTypes minLevel mode enabled } }',
  'query($e: ID!) { webhookDeliveries(endpointId: $e, first: 3) { edges { node { id status } } } }',
  'mutation($i: PublishEventInput!) { publishEvent(input: $i) { id type cursor } }',
  'mutation($is: [PublishEventInput!]!) { publishEvents(inputs: $is) { id } }',
  'mutation($u: ID!) { closeUserSessions(userId: $u, reason: "fuzz") }',
  'subscription($t: [EventType!], $a: String) { events(types: $t, after: $a) { __typename id type level cursor } }',
  'subscription($d: ID!) { deliveryTracking(deliveryId: $d) { id type } }',
  '{ __schema { queryType { name } types { name kind } } }',
  '{ __type(name: "Event") { name fields { name } } }',
];
const NAMES = ['viewer', 'events', 'event', 'edges', 'node', 'id', 'type', 'cursor', 'userId', 'publishEvent', 'input', 'filter', 'first', 'after', '__typename', '__schema', 'fields', 'on', 'Event', 'OrderCreatedEvent', 'fragment', 'query', 'mutation', 'subscription', 'true', 'null', '$id', '$x', '@include', '@skip', '@deprecated'];
const PUNCTUATION = ['{', '}', '(', ')', '[', ']', ':', '!', '$', '@', '...', '=', '|', '&', '"', '#', ',', '\\', '\u0000', '\uFFFF', '\u{1F600}'];

function tokens(source: string): string[] {
  return source.match(/\.\.\.|"(?:[^"\\]|\\.)*"|[A-Za-z_$@][\w]*|-?\d+(?:\.\d+)?|\S/g) ?? [];
}

/** One mutation of a real operation: token deletes, duplicates, swaps, inserts and renames, nesting and aliases. */
function mutateDocument(rng: Rng): string {
  const parts = tokens(rng.pick(OPERATIONS));
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits && parts.length; e++) {
    const at = rng.int(parts.length);
    switch (rng.int(8)) {
      case 0: parts.splice(at, 1); break;
      case 1: parts.splice(at, 0, parts[at]!); break;
      case 2: { const other = rng.int(parts.length); [parts[at], parts[other]] = [parts[other]!, parts[at]!]; break; }
      case 3: parts.splice(at, 0, rng.pick(PUNCTUATION)); break;
      case 4: parts[at] = rng.pick(NAMES); break;
      case 5: parts.splice(at, 0, `a${rng.int(99)}:`, rng.pick(NAMES)); break;
      case 6: parts.splice(at, 0, ...'{ ... on Event { id '.split(' '), ...Array<string>(rng.int(3)).fill('}')); break;
      default: parts.splice(at, 0, rng.chance(0.5) ? String(rng.int(1e9) - 5e8) : JSON.stringify(randomString(rng, 20))); break;
    }
  }
  return parts.join(' ');
}

function randomString(rng: Rng, max: number): string {
  const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '{', '$', '\u00e9', '\u4e2d', '\ud83d\ude00', '\u0000', '\n', '%', "'", '<'];
  return Array.from({ length: rng.int(max) }, () => rng.pick(alphabet)).join('');
}

function randomJson(rng: Rng, depth = 0): unknown {
  const kind = rng.int(depth > 3 ? 4 : 7);
  switch (kind) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.chance(0.5) ? rng.int(1e6) : (rng.next() - 0.5) * 1e308;
    case 3: return randomString(rng, 30);
    case 4: return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth + 1));
    default: {
      const keys = ['type', 'id', 'payload', 'query', 'variables', 'authorization', '__proto__', 'constructor', '$gt', 'extensions', 'operationName'];
      return Object.fromEntries(Array.from({ length: rng.int(5) }, () => [rng.pick(keys), randomJson(rng, depth + 1)]));
    }
  }
}

function randomVariables(rng: Rng): Record<string, unknown> {
  const values: Record<string, unknown> = {
    id: rng.pick(['evt_x', '{"$gt": ""}', randomString(rng, 10)]),
    u: rng.pick(['cus_fuzz', 'sup_fuzz', randomString(rng, 8)]),
    e: 'whe_01M8S6GM3F1DMNK5JHXFN24PC7',
    d: rng.pick(['dlv_1', randomString(rng, 6)]),
    n: rng.pick([1, 5, 0, -1, 10_000, 'x', null]),
    a: rng.pick([undefined, '1', '-1', 'abc', '999999999', randomString(rng, 5)]),
    t: rng.pick([undefined, ['ORDER_CREATED'], ['NOPE'], 'ORDER_CREATED', [{ $gt: '' }]]),
    f: rng.pick([undefined, { userId: 'cus_fuzz' }, { userId: { $ne: null } }, { types: ['ORDER_CREATED'], levels: ['HIGH'] }, randomJson(rng)]),
    i: rng.pick([{ type: 'ORDER_CREATED', userId: 'cus_fuzz', source: 'fuzz-service', data: examplePayload('order_created') }, { type: 'ORDER_CREATED', source: 'x', data: randomJson(rng) }, randomJson(rng)]),
    is: rng.pick([[], [{ type: 'SYSTEM_ALERT', source: 'fuzz-service', data: examplePayload('system_alert') }], randomJson(rng)]),
  };
  return rng.chance(0.1) ? (randomJson(rng) as Record<string, unknown>) : values;
}

const ROLES = ['customer', 'supplier', 'delivery_partner', 'service', 'admin'] as const;

/** Every error code in an answer body (GraphQL result or error response). */
function codesIn(body: any): string[] {
  const errors = Array.isArray(body) ? body : body?.errors;
  return Array.isArray(errors) ? errors.map((e: any) => e?.extensions?.code) : [];
}

describe(`fuzz (seed ${SEED}: HERALD_FUZZ_SEED=${SEED} replays it)`, () => {
  let server: ChildServer;
  let inspectorUrl: string | undefined;
  const problems: string[] = [];
  const note = (problem: string) => {
    if (problems.length < 20) problems.push(problem);
  };

  beforeAll(async () => {
    console.log(`fuzz: seed ${SEED}, ${FRAMES} frames, ${DOCUMENTS} documents (HERALD_FUZZ_SEED=${SEED} to replay)`);
    let stderr = '';
    server = await createChildServer(
      // Many sockets from one address, and publishes from the corpus: the per-address and per-token limits off.
      { CONNECTION_RATE_PER_IP: '0', PUBLISH_RATE_PER_TOKEN: '0', LOG_LEVEL: 'error' },
      {
        nodeArgs: ['--inspect=127.0.0.1:0'],
        stderr: (chunk) => {
          stderr += chunk;
          inspectorUrl ??= /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
        },
      },
    );
    await server.start();
  }, 60_000);
  afterAll(async () => {
    await server?.dispose();
  });

  /** Heap used after a forced full GC, read from the child over its inspector. */
  async function heapAfterGc(): Promise<{ heapUsed: number; rss: number }> {
    const socket = new WebSocket(inspectorUrl!);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    let next = 1;
    const call = (method: string, params: object = {}) =>
      new Promise<any>((resolve) => {
        const id = next++;
        const onMessage = (data: WebSocket.RawData) => {
          const message = JSON.parse(String(data));
          if (message.id === id) {
            socket.off('message', onMessage);
            resolve(message.result);
          }
        };
        socket.on('message', onMessage);
        socket.send(JSON.stringify({ id, method, params }));
      });
    await call('HeapProfiler.enable');
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const result = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    socket.close();
    const usage = JSON.parse(result.result.value);
    return { heapUsed: usage.heapUsed, rss: usage.rss };
  }

  /** One socket: maybe a proper init, then random frames; every frame it gets back and its close code are checked. */
  async function socketRun(rng: Rng, frames: number, documents: { sent: number }): Promise<number> {
    const wsUrl = server.graphqlUrl.replace(/^http/, 'ws');
    const socket = new WebSocket(wsUrl, rng.chance(0.97) ? 'graphql-transport-ws' : rng.pick(['graphql-ws', 'x']));
    const closed = deferred<number>();
    socket.on('message', (data, isBinary) => {
      let frame: any;
      try {
        frame = JSON.parse(String(data));
      } catch {
        return note(`not JSON from the server: ${String(data).slice(0, 80)}`);
      }
      if (isBinary) note('a binary frame from the server');
      if (!SERVER_TYPES.has(frame?.type)) note(`unexpected frame type ${JSON.stringify(frame).slice(0, 120)}`);
      for (const code of frame.type === 'error' ? codesIn(frame.payload) : frame.type === 'next' ? codesIn(frame.payload) : []) {
        if (!KNOWN_CODES.has(code)) note(`unknown error code ${code} in ${JSON.stringify(frame).slice(0, 300)}`);
      }
    });
    socket.once('close', (code) => closed.resolve(code));
    socket.once('error', () => {});
    socket.once('unexpected-response', (_req, res) => {
      if (!HTTP_STATUSES.has(res.statusCode!)) note(`upgrade answered ${res.statusCode}`);
      closed.resolve(1006);
    });
    const isOpen = await Promise.race([new Promise((resolve) => socket.once('open', () => resolve(true))), closed.promise.then(() => false)]);
    if (!isOpen) return 0;
    const token = server.token(`${rng.pick(['cus', 'sup', 'dp', 'svc', 'adm'])}_fuzz${rng.int(5)}`, rng.pick(ROLES));
    const send = (frame: string | Buffer, binary = false) => socket.readyState === WebSocket.OPEN && socket.send(frame, { binary });
    if (rng.chance(0.75)) send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    let sent = 0;
    for (; sent < frames && socket.readyState === WebSocket.OPEN; sent++) {
      const kind = rng.int(10);
      if (kind < 4) {
        // A subscribe with a mutated real operation.
        documents.sent++;
        send(JSON.stringify({ id: String(rng.int(20)), type: 'subscribe', payload: { query: mutateDocument(rng), variables: randomVariables(rng) } }));
      } else if (kind < 6) {
        // A mutated valid message: one character changed, cut, or a field replaced.
        const valid = rng.pick([
          { type: 'ping' }, { type: 'pong' }, { id: '1', type: 'complete' }, { type: 'connection_init', payload: { authorization: `Bearer ${token}` } },
          { id: '2', type: 'subscribe', payload: { query: rng.pick(OPERATIONS) } },
        ]) as Record<string, unknown>;
        let text = JSON.stringify(rng.chance(0.5) ? { ...valid, [rng.pick(['type', 'id', 'payload'])]: randomJson(rng) } : valid);
        if (rng.chance(0.5)) {
          const at = rng.int(text.length);
          text = rng.chance(0.5) ? text.slice(0, at) : text.slice(0, at) + String.fromCharCode(rng.int(0x3000)) + text.slice(at + 1);
        }
        send(text);
      } else if (kind < 8) {
        send(JSON.stringify(randomJson(rng)));
      } else if (kind < 9) {
        send(Buffer.from(Array.from({ length: rng.int(200) }, () => rng.int(256))), rng.chance(0.5));
      } else {
        send(rng.chance(0.05) ? 'x'.repeat(1024 * 1024 + 1) : '{"type":"ping"}');
      }
    }
    const code = await Promise.race([closed.promise, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 30))]);
    if (code === -1) {
      socket.close();
      const final = await closed.promise;
      if (!CLOSE_CODES.has(final)) note(`close code ${final}`);
    } else if (!CLOSE_CODES.has(code)) note(`close code ${code}`);
    return sent;
  }

  async function httpDocument(rng: Rng): Promise<void> {
    const token = server.token(`${rng.pick(['cus', 'sup', 'svc', 'adm'])}_fuzz${rng.int(5)}`, rng.pick(ROLES));
    const body: Record<string, unknown> = { query: mutateDocument(rng), variables: randomVariables(rng) };
    if (rng.chance(0.05)) body['operationName'] = randomJson(rng);
    const sse = rng.chance(0.15);
    const abort = new AbortController();
    // A subscription over SSE never ends by itself: its first answer is read, then the stream is dropped.
    const timer = setTimeout(() => abort.abort(), sse ? 150 : 5000);
    try {
      const response = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(sse ? { accept: 'text/event-stream' } : {}) },
        body: rng.chance(0.05) ? JSON.stringify(body).slice(0, rng.int(60)) : JSON.stringify(body),
        signal: abort.signal,
      });
      if (!HTTP_STATUSES.has(response.status)) note(`HTTP ${response.status} for ${JSON.stringify(body).slice(0, 200)}`);
      const text = await response.text();
      const payloads = sse ? [...text.matchAll(/^data: (.+)$/gm)].map((m) => m[1]!) : [text];
      for (const payload of payloads) {
        let parsed: any;
        try {
          parsed = JSON.parse(payload);
        } catch {
          note(`not JSON: ${payload.slice(0, 100)}`);
          continue;
        }
        for (const code of codesIn(parsed)) if (!KNOWN_CODES.has(code)) note(`unknown code ${code} for ${JSON.stringify(body).slice(0, 300)}: ${payload.slice(0, 300)}`);
      }
    } catch (error) {
      if (!abort.signal.aborted) note(`request failed: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  it('never crashes, answers every input in a well-formed way, serves a normal client after, and does not grow its heap', async () => {
    const started = Date.now();
    const rng = prng(SEED);
    await waitFor(() => inspectorUrl !== undefined, 10_000, 'the inspector URL');
    // Warm-up (JIT, the parse and validation caches, the first sockets) before the baseline.
    const warm = prng(SEED + 1);
    await Promise.all(Array.from({ length: 6 }, async () => {
      for (let i = 0; i < 30; i++) await httpDocument(warm);
    }));
    for (let i = 0; i < 20; i++) await socketRun(warm, 10, { sent: 0 });
    const before = await heapAfterGc();

    // Bounded in count (FRAMES, DOCUMENTS) and in time: on a loaded machine the time bound ends it first.
    const fuzzUntil = Date.now() + TIME_BOUND_MS * 0.6;
    let frames = 0;
    let httpDocuments = 0;
    const documents = { sent: 0 };
    const workers = Array.from({ length: 12 }, async (_, w) => {
      const mine = prng(SEED * 31 + w);
      while (frames < FRAMES && Date.now() < fuzzUntil) {
        const sent = await socketRun(mine, 1 + mine.int(40), documents);
        frames += sent;
      }
    });
    const http = Array.from({ length: 6 }, async () => {
      while (httpDocuments + documents.sent < DOCUMENTS && Date.now() < fuzzUntil) {
        httpDocuments++;
        await httpDocument(rng);
      }
    });
    await Promise.all([...workers, ...http]);

    // A normal client is served: a query over HTTP, and a live event over WebSocket.
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const viewer = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token('cus_after', 'customer')}` }, body: '{"query":"{ viewer { userId } }"}' });
    expect(((await viewer.json()) as any).data.viewer.userId).toBe('cus_after');

    // Every fuzzed session and subscription is gone once its socket is: none is left behind in the registry.
    await waitFor(async () => {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const sessions = [...metrics.matchAll(/^herald_sessions\{transport="\w+"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
      const live = Number(/^herald_live_subscriptions (\d+)$/m.exec(metrics)?.[1] ?? NaN);
      return sessions === 0 && live === 0;
    }, 10_000, 'no session or live subscription left');
    const after = await heapAfterGc();
    const elapsed = Date.now() - started;
    console.log(
      `fuzz: ${frames} frames (${documents.sent} of them subscribes with a fuzzed document), ${httpDocuments} documents over HTTP/SSE in ${elapsed} ms; heap after GC ${(before.heapUsed / 1048576).toFixed(1)} -> ${(after.heapUsed / 1048576).toFixed(1)} MiB, rss ${(before.rss / 1048576).toFixed(0)} -> ${(after.rss / 1048576).toFixed(0)} MiB`,
    );
    expect(problems, `seed ${SEED}`).toEqual([]);
    expect(frames).toBeGreaterThanOrEqual(Math.min(FRAMES, 300));
    expect(httpDocuments + documents.sent).toBeGreaterThanOrEqual(Math.min(DOCUMENTS, 300));
    expect(elapsed).toBeLessThan(TIME_BOUND_MS + 15_000);
    expect(after.heapUsed - before.heapUsed, `heap grew from ${before.heapUsed} to ${after.heapUsed} bytes`).toBeLessThan(HEAP_GROWTH_BOUND);
  }, 90_000);
});
