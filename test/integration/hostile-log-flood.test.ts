/**
 * A flood of bad input is logged at a bounded rate, not once per frame: a Herald child process at LOG_LEVEL=info gets
 * 1,000 malformed graphql-ws frames (one per socket, as each closes its socket), 1,000 invalid-UTF-8 frames, 500
 * refused HTTP bodies, 300 malformed SSE requests and 300 subscribes over the rate limit; its stdout (the JSON log) must
 * hold at most a handful of lines for all of it, each carrying a request id and the count of what it stands for, and
 * none of the tokens sent. A normal client is served afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import WebSocket from 'ws';
import { createChildServer, type ChildServer } from '../utils/child-server.js';
import { rawSocket } from '../utils/clients.js';
import { waitFor } from '../utils/deferred.js';

let server: ChildServer;
let stdout = '';
const lines = () => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);

beforeAll(async () => {
  server = await createChildServer(
    { LOG_LEVEL: 'info', CONNECTION_RATE_PER_IP: '0', SUBSCRIBE_RATE_PER_CONNECTION: '1', SUBSCRIBE_BURST_PER_CONNECTION: '1' },
    { stdout: (chunk) => (stdout += chunk) },
  );
  await server.start();
}, 60_000);
afterAll(async () => {
  await server.dispose();
});

/** Opens a socket, sends one frame, waits for the server to close it. */
function badFrame(url: string, frame: string | Buffer, binary = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    socket.once('open', () => socket.send(frame, { binary }));
    socket.once('close', (code) => resolve(code));
    socket.once('error', reject);
  });
}

/** A POST announcing a 50 MiB body, none of which is sent: the server answers 413 from the headers alone. */
function announcedTooLarge(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': String(50 * 1024 * 1024) } });
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
      req.destroy();
    });
    req.once('error', reject);
    req.flushHeaders();
  });
}

async function inBatches(n: number, size: number, one: (i: number) => Promise<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < n; i += size) out.push(...(await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, j) => one(i + j)))));
  return out;
}

describe('a flood of bad input', () => {
  it('is logged as a handful of lines with counts and request ids, no tokens, and the server still serves', async () => {
    const wsUrl = server.graphqlUrl.replace(/^http/, 'ws');
    const token = server.token('cus_flood', 'customer');
    await waitFor(() => lines().some((l) => /listening/.test(String(l['msg']))), 10_000, 'the start-up lines');
    const before = lines().length;

    const closes = await inBatches(1000, 50, (i) => badFrame(wsUrl, i % 2 ? `{"type":"bogus-${i}","token":"${token}"}` : `not json ${i}`));
    expect(new Set(closes)).toEqual(new Set([4400]));
    const utf8 = await inBatches(1000, 50, () => badFrame(wsUrl, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false));
    expect(new Set(utf8)).toEqual(new Set([1007]));
    const http = await inBatches(500, 50, () => announcedTooLarge(server.graphqlUrl, token));
    expect(http.filter((s) => s === 413).length).toBe(500);
    const sse = await inBatches(300, 50, () =>
      fetch(`${server.graphqlUrl}?query=${encodeURIComponent('subscription { events { id } }')}&variables=not-json&access_token=${token}`, { headers: { accept: 'text/event-stream' } }).then((r) => r.status),
    );
    expect(new Set(sse)).toEqual(new Set([400]));
    const ws = await rawSocket(wsUrl, token);
    for (let i = 0; i < 60; i++) ws.send({ id: `s${i}`, type: 'subscribe', payload: { query: '{ viewer { userId } }' } });
    await waitFor(() => ws.frames.filter((f) => f.type === 'error' || f.type === 'next').length >= 60, 10_000, '60 answers');
    ws.socket.close();

    // A normal client is served.
    const served = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token('cus_ok', 'customer')}` }, body: '{"query":"{ viewer { userId } }"}' });
    expect(((await served.json()) as any).data.viewer.userId).toBe('cus_ok');

    await new Promise((resolve) => setTimeout(resolve, 300)); // the last lines reach stdout
    const flood = lines().slice(before);
    // One line per kind within the 10 s window: protocol errors, HTTP refusals, SSE refusals, subscribe refusals.
    expect(flood.length, JSON.stringify(flood, null, 1)).toBeLessThanOrEqual(6);
    expect(flood.map((l) => l['msg'])).toEqual(expect.arrayContaining(['websocket protocol errors', 'HTTP requests refused before they were read', 'SSE requests refused']));
    for (const line of flood) expect(line['requestId'], JSON.stringify(line)).toEqual(expect.stringMatching(/^[\w.:-]{1,64}$/));
    expect(stdout).not.toContain(token);
    expect(stdout).not.toContain(token.split('.')[2]!);
  }, 120_000);
});
