/**
 * New connections per client address (CONNECTION_RATE_PER_IP: WebSocket upgrades refused with HTTP 429 before the
 * handshake, SSE with 429 RATE_LIMITED), X-Forwarded-For believed from TRUSTED_PROXIES only, and subscribes per
 * connection (SUBSCRIBE_RATE_PER_CONNECTION: an error for that id, the socket stays; 4032 for a client that keeps on).
 * Every refusal is counted in /metrics by limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type TestServer } from '../utils/server.js';
import { rawSocket } from '../utils/clients.js';
import { waitFor } from '../utils/deferred.js';

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: any;
  readonly requestId: string | undefined;
}

/** A WebSocket upgrade: 101 (then closed), or the HTTP answer that refused it. */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { headers });
    socket.once('open', () => {
      socket.close();
      resolve({ status: 101, retryAfter: undefined, body: undefined, requestId: undefined });
    });
    socket.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string | undefined, body: JSON.parse(text), requestId: res.headers['x-request-id'] as string | undefined }));
    });
    socket.once('error', (error) => {
      if (!/Unexpected server response/.test(String(error))) reject(error);
    });
  });
}

async function sse(server: TestServer, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${server.token('cus_sse_rate', 'customer')}`, ...headers },
    // A query over SSE: one result, then the stream ends (a new SSE request all the same).
    body: JSON.stringify({ query: '{ viewer { userId } }' }),
  });
  const text = await response.text();
  return { status: response.status, retryAfter: response.headers.get('retry-after') ?? undefined, body: response.status === 200 ? text : JSON.parse(text), requestId: response.headers.get('x-request-id') ?? undefined };
}

async function refusedByLimit(server: TestServer, limit: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`^herald_connections_refused_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

describe('new connections per client address', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { CONNECTION_RATE_PER_IP: '2', CONNECTION_BURST_PER_IP: '3' } });
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('refuses an upgrade past the burst with HTTP 429, Retry-After and RATE_LIMITED before the handshake; SSE shares the budget; both recover', async () => {
    for (let i = 0; i < 3; i++) expect((await upgrade(server.wsUrl)).status).toBe(101);
    const refused = await upgrade(server.wsUrl);
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused.body.errors[0].extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.body.errors[0].message).toMatch(/CONNECTION_RATE_PER_IP/);
    expect(refused.requestId).toMatch(/^[\w.:-]{1,64}$/);

    const sseRefused = await sse(server);
    expect(sseRefused.status).toBe(429);
    expect(Number(sseRefused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(sseRefused.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    // Plain HTTP requests are not live connections: a normal client is still served.
    const { status } = await server.gql('{ viewer { userId } }', {}, server.token('cus_normal', 'customer'));
    expect(status).toBe(200);
    expect(await refusedByLimit(server, 'connection_rate')).toBeGreaterThanOrEqual(2);

    await new Promise((resolve) => setTimeout(resolve, 600)); // 2/s: one token back after 500 ms
    expect((await upgrade(server.wsUrl)).status).toBe(101);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await sse(server)).status).toBe(200);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1600)); // a full bucket again
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await upgrade(server.wsUrl, { 'x-forwarded-for': `203.0.113.${i}` })).status);
    expect(answers.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
  });
});

describe('X-Forwarded-For from TRUSTED_PROXIES', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { CONNECTION_RATE_PER_IP: '0.5', CONNECTION_BURST_PER_IP: '1', TRUSTED_PROXIES: '127.0.0.1,10.0.0.0/8' } });
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('keys each forwarded client apart, walks past trusted hops, and keys IPv6 clients by /64', async () => {
    expect((await upgrade(server.wsUrl, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(101);
    expect((await upgrade(server.wsUrl, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(429);
    expect((await upgrade(server.wsUrl, { 'x-forwarded-for': '203.0.113.8' })).status).toBe(101);
    // A spoofed left-most entry does not buy a new bucket: the right-most untrusted hop is the client.
    expect((await upgrade(server.wsUrl, { 'x-forwarded-for': '198.51.100.1, 203.0.113.8, 10.1.2.3' })).status).toBe(429);
    expect((await sse(server, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(429);
    expect((await sse(server, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(200);
    expect((await upgrade(server.wsUrl, { 'x-forwarded-for': '2001:db8:1:2::1' })).status).toBe(101);
    expect((await upgrade(server.wsUrl, { 'x-forwarded-for': '2001:db8:1:2:ffff::9' })).status).toBe(429);
    expect((await upgrade(server.wsUrl, { 'x-forwarded-for': '2001:db8:1:3::1' })).status).toBe(101);
  });

  it('refuses a TRUSTED_PROXIES entry that is not an address or CIDR at start-up', async () => {
    await expect(startServer({ env: { TRUSTED_PROXIES: '127.0.0.1,proxy.internal' } })).rejects.toThrow(/TRUSTED_PROXIES.*not an IP address or CIDR/);
    await expect(startServer({ env: { TRUSTED_PROXIES: '10.0.0.0/33' } })).rejects.toThrow(/TRUSTED_PROXIES/);
  });
});

describe('subscribes per connection', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { SUBSCRIBE_RATE_PER_CONNECTION: '2', SUBSCRIBE_BURST_PER_CONNECTION: '3' } });
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  const answerOf = (frames: any[], id: string) => frames.find((f) => f.id === id && (f.type === 'error' || f.type === 'next'));

  it('answers a subscribe past the budget with an error RATE_LIMITED for that id; the socket and its subscriptions stay', async () => {
    const ws = await rawSocket(server.wsUrl, server.token('cus_subrate', 'customer'));
    ws.send({ id: 'live', type: 'subscribe', payload: { query: 'subscription { events { id } }' } });
    for (const id of ['a', 'b', 'c', 'd']) ws.send({ id, type: 'subscribe', payload: { query: '{ viewer { userId } }' } });
    await waitFor(() => ['a', 'b', 'c', 'd'].every((id) => answerOf(ws.frames, id)), 5000, 'every answer');
    expect(answerOf(ws.frames, 'a').type).toBe('next');
    expect(answerOf(ws.frames, 'b').type).toBe('next');
    for (const id of ['c', 'd']) {
      const error = answerOf(ws.frames, id);
      expect(error.type).toBe('error');
      expect(error.payload[0].extensions.code).toBe('RATE_LIMITED');
      expect(error.payload[0].extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(error.payload[0].message).toMatch(/SUBSCRIBE_RATE_PER_CONNECTION/);
    }
    expect(ws.socket.readyState).toBe(WebSocket.OPEN);
    await new Promise((resolve) => setTimeout(resolve, 600));
    ws.send({ id: 'e', type: 'subscribe', payload: { query: '{ viewer { userId } }' } });
    await waitFor(() => answerOf(ws.frames, 'e'), 5000, 'the answer after the delay');
    expect(answerOf(ws.frames, 'e').type).toBe('next');
    // The live subscription of the first message is still there.
    expect(server.herald.hub.connections.sessionsOf('cus_subrate')[0]!.operations.has('live')).toBe(true);
    expect(await refusedByLimit(server, 'subscribe_rate')).toBeGreaterThanOrEqual(2);
    ws.socket.close();
  });

  it('closes a connection that keeps subscribing past RATE_LIMITED answers with 4032; a normal client is served', async () => {
    const ws = await rawSocket(server.wsUrl, server.token('cus_subflood', 'customer'));
    for (let i = 0; i < 200; i++) ws.send({ id: `f${i}`, type: 'subscribe', payload: { query: '{ viewer { userId } }' } });
    const closed = await ws.closed;
    expect(closed.code).toBe(4032);
    expect(closed.reason).toMatch(/SUBSCRIBE_RATE_PER_CONNECTION/);
    const errors = ws.frames.filter((f) => f.type === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(90);
    expect(errors.every((f) => f.payload[0].extensions.code === 'RATE_LIMITED')).toBe(true);
    const normal = await rawSocket(server.wsUrl, server.token('cus_subnormal', 'customer'));
    normal.send({ id: 'ok', type: 'subscribe', payload: { query: '{ viewer { userId } }' } });
    await waitFor(() => answerOf(normal.frames, 'ok')?.type === 'next', 5000, 'a normal client served');
    normal.socket.close();
  });
});

describe('request ids', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('keeps a well-formed incoming X-Request-Id, replaces a malformed one, and answers one on every response', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token('cus_rid', 'customer')}`, ...headers }, body: '{"query":"{ viewer { userId } }"}' });
    expect((await post({ 'x-request-id': 'lb-7f3a.42:x_y' })).headers.get('x-request-id')).toBe('lb-7f3a.42:x_y');
    const replaced = (await post({ 'x-request-id': 'evil {"level":60}' })).headers.get('x-request-id');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    expect((await post({ 'x-request-id': 'x'.repeat(65) })).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const a = (await post({})).headers.get('x-request-id');
    const b = (await post({})).headers.get('x-request-id');
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
    expect((await fetch(`${server.url}/health`)).headers.get('x-request-id')).toBeTruthy();
    expect((await sse(server, { 'x-request-id': 'sse-1' })).requestId).toBe('sse-1');
    const upgraded = await new Promise<string | undefined>((resolve, reject) => {
      const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws', { headers: { 'x-request-id': 'ws-1' } });
      socket.once('upgrade', (res) => resolve(res.headers['x-request-id'] as string | undefined));
      socket.once('open', () => socket.close());
      socket.once('error', reject);
    });
    expect(upgraded).toBe('ws-1');
  });
});
