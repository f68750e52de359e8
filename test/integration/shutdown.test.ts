/**
 * Graceful shutdown of a real Herald process (SIGTERM): live clients are told to reconnect elsewhere (WebSocket
 * 1012, SSE `retry:` + final `event: error`), publishes in flight finish, and every acknowledged event is in the
 * log after a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChildServer, type ChildServer } from '../utils/child-server.js';
import { wsClient } from '../utils/clients.js';
import { examplePayload } from '../../src/events/examples.js';

const SUB = 'subscription { events { id } }';
const PUBLISH = 'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }';

describe('graceful shutdown', () => {
  let server: ChildServer;
  beforeAll(async () => {
    server = await createChildServer({ SHUTDOWN_TIMEOUT_MS: '5000' });
    await server.start();
  }, 60_000);
  afterAll(async () => {
    await server?.dispose();
  });

  it('tells live clients to reconnect, finishes in-flight publishes, and loses nothing acknowledged', async () => {
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const ws = wsClient(server.graphqlUrl.replace(/^http/, 'ws'), server.token('cus_sd', 'customer'));
    ws.subscribe(SUB);
    await ws.connected;
    const sse = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${server.token('cus_sd2', 'customer')}` },
      body: JSON.stringify({ query: SUB }),
    });
    expect(sse.status).toBe(200);
    const sseText = (async () => {
      let text = '';
      const reader = sse.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done) return text;
        text += new TextDecoder().decode(value);
      }
    })();

    // Publishers keep publishing while the signal arrives; each answered publish is acknowledged.
    const service = server.token('svc_sd', 'service');
    const acknowledged: string[] = [];
    const refusals: unknown[] = [];
    let sent = 0;
    const publisher = async (p: number) => {
      for (let round = 0; round < 200; round++) {
        const keys = Array.from({ length: 20 }, (_, i) => `sd-${p}-${round}-${i}`);
        sent += keys.length;
        try {
          const response = await fetch(server.graphqlUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${service}` },
            body: JSON.stringify({
              query: PUBLISH,
              variables: { inputs: keys.map((key) => ({ type: 'ORDER_CREATED', userId: 'cus_sd', source: 'orders', idempotencyKey: key, data: { ...examplePayload('order_created'), orderId: key } })) },
            }),
          });
          const body = (await response.json()) as { data?: { publishEvents: { id: string }[] }; errors?: unknown[] };
          if (response.status !== 200 || !body.data) {
            if (!refusals.length) refusals.push(body);
            return;
          }
          acknowledged.push(...body.data.publishEvents.map((e) => e.id));
        } catch {
          return; // refused or reset: not acknowledged
        }
      }
    };
    const publishing = Promise.all([publisher(0), publisher(1), publisher(2)]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalled = Date.now();
    await server.kill('SIGTERM');
    const shutdownMs = Date.now() - signalled;
    await publishing;

    const closed = await ws.closed;
    expect(closed.code).toBe(1012);
    expect(closed.reason).toMatch(/reconnect/i);
    const text = await sseText;
    expect(text).toMatch(/retry: \d+\nevent: error\ndata: \{"code":1012,/);
    expect(shutdownMs).toBeLessThan(8000);
    expect(acknowledged.length, JSON.stringify(refusals)).toBeGreaterThan(0);
    expect(acknowledged.length).toBeLessThan(sent);

    // Every acknowledged event is in the log.
    await server.start();
    const admin = server.token('adm_sd', 'admin');
    const logged = new Set<string>();
    let after: string | null = null;
    for (;;) {
      const response: Response = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: JSON.stringify({ query: 'query($after: String) { events(first: 500, after: $after, order: OLDEST_FIRST) { edges { node { id } } pageInfo { endCursor hasNextPage } } }', variables: { after } }),
      });
      const page: { edges: { node: { id: string } }[]; pageInfo: { endCursor: string; hasNextPage: boolean } } = ((await response.json()) as any).data.events;
      for (const edge of page.edges) logged.add(edge.node.id);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(acknowledged.filter((id) => !logged.has(id))).toEqual([]);
  }, 60_000);
});
