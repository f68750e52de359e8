/**
 * The SDK through a crash: Herald in its own process on a fixed port and SQLite file is SIGKILLed while a
 * publisher keeps publishing, then started again on the same port and data. Subscribers reconnect with
 * backoff and their handlers get every event exactly once, in order; the publisher retries (same
 * idempotency keys) and the log holds each event once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHeraldClient, createHeraldPublisher, type HeraldClient, type PublishedEvent } from '../../clients/sdk/src/index.js';
import { createChildServer, type ChildServer } from '../utils/child-server.js';
import { payloadOf, recorder, WebSocket } from '../utils/sdk.js';
import { sleep, waitFor } from '../utils/deferred.js';

describe('@herald/sdk through a server crash (SIGKILL) and restart', () => {
  let server: ChildServer;
  const clients: HeraldClient[] = [];

  beforeAll(async () => {
    server = await createChildServer();
    await server.start();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.dispose();
  });

  /** Requests that got no answer (the server was down): the publisher must have retried them. */
  let failedRequests = 0;
  const countingFetch = async (url: string, init: Parameters<typeof fetch>[1]) => {
    try {
      return await fetch(url, init);
    } catch (error) {
      failedRequests++;
      throw error;
    }
  };
  const publisherFor = (source: string, options: { maxBatchSize?: number } = {}) =>
    createHeraldPublisher({
      url: server.graphqlUrl,
      getToken: () => server.token('svc-crash', 'service'),
      source,
      fetch: countingFetch as never,
      initialRetryDelayMs: 100,
      maxRetryDelayMs: 1000,
      maxRetries: 60,
      timeoutMs: 3000,
      ...options,
    });

  /** Kills the server, keeps it down a moment, starts it again on the same port and data. */
  async function crashAndRestart(downMs: number, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL') {
    await server.kill(signal);
    await sleep(downMs);
    await server.start();
  }

  const how = { SIGKILL: 'killed (SIGKILL)', SIGTERM: 'shut down (SIGTERM: close 1012, service restart)' } as const;
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) it(`${how[signal]}: reconnects with backoff and hands every event published meanwhile to the handlers exactly once, in order`, async () => {
    const user = `cus_crash_${signal}`;
    const make = (transport: 'auto' | 'sse') => {
      const c = createHeraldClient({
        url: server.graphqlUrl,
        getToken: () => server.token(user, 'customer'),
        transport,
        webSocketImpl: WebSocket,
        initialRetryDelayMs: 200,
        maxRetryDelayMs: 2000,
      });
      clients.push(c);
      return c;
    };
    const overWs = make('auto');
    const overSse = make('sse');
    const a = recorder<{ id: string; cursor: string }>();
    const b = recorder<{ id: string; cursor: string }>();
    overWs.onStatus(a.status);
    overSse.onStatus(b.status);
    overWs.on('*', a.handler);
    overSse.on(['ORDER_CREATED', 'ORDER_CONFIRMED'], b.handler);
    await waitFor(() => overWs.status().state === 'connected' && overSse.status().state === 'connected', 10_000, 'both connected');
    await sleep(100);

    const publisher = publisherFor('crash-a');
    const N = 40;
    const published: PublishedEvent[] = [];
    const publishing = (async () => {
      for (let i = 0; i < N; i++) {
        const type = i % 2 ? 'ORDER_CONFIRMED' : 'ORDER_CREATED';
        published.push(await publisher.publish(type, payloadOf(type, { customerId: user, orderId: `ord_crash_${i}` }), { userId: user, idempotencyKey: `crash-a:${signal}:${i}` }));
        await sleep(40);
      }
    })();
    await waitFor(() => published.length >= 10, 10_000, '10 published');
    failedRequests = 0;
    await crashAndRestart(500, signal);
    await publishing;
    expect(failedRequests).toBeGreaterThan(0);

    await a.waitForCount(N, 20_000);
    await b.waitForCount(N, 20_000);
    await sleep(200);
    const ids = published.map((e) => e.id);
    expect(new Set(ids).size).toBe(N);
    expect(a.ids()).toEqual(ids);
    expect(b.ids()).toEqual(ids);
    // They noticed, and came back through reconnect attempts.
    for (const rec of [a, b]) {
      expect(rec.statuses.some((s) => s.state === 'reconnecting')).toBe(true);
      expect(rec.statuses.some((s) => s.reconnectAttempts > 0)).toBe(true);
    }
    // `auto` may have landed on SSE while the server came back (WebSocket refused a moment before SSE got through);
    // then it moves back to WebSocket by itself within seconds.
    await waitFor(() => overWs.status().transport === 'websocket', 15_000, 'auto back on WebSocket');
    expect(overWs.status()).toMatchObject({ state: 'connected', transport: 'websocket', lastCursor: published[N - 1]!.cursor });
    expect(overSse.status()).toMatchObject({ state: 'connected', transport: 'sse', lastCursor: published[N - 1]!.cursor });
    if (signal === 'SIGTERM') expect(a.statuses.some((s) => s.lastClose?.code === 1012)).toBe(true);
  }, 90_000);

  it('retries publishes through a restart, and the log holds each event once', async () => {
    const publisher = publisherFor('crash-d');
    const N = 30;
    const published: PublishedEvent[] = [];
    const publishing = (async () => {
      for (let i = 0; i < N; i++) {
        published.push(await publisher.publish('INVENTORY_ALERT', payloadOf('INVENTORY_ALERT', { sku: `SKU-${i}` }), { userId: 'sup_crash', idempotencyKey: `crash-d:${i}` }));
      }
      // A batch as well: chunked (10 per call) and retried as a whole chunk with the same keys.
      const items = Array.from({ length: 25 }, (_, i) => ({
        type: 'INVENTORY_ALERT' as const,
        payload: payloadOf('INVENTORY_ALERT', { sku: `BATCH-${i}` }),
        userId: 'sup_crash',
        idempotencyKey: `crash-d:batch:${i}`,
      }));
      published.push(...(await publisherFor('crash-d', { maxBatchSize: 10 }).publishMany(items)));
    })();
    await waitFor(() => published.length >= 8, 10_000, '8 published');
    failedRequests = 0;
    await crashAndRestart(300);
    await publishing;
    expect(failedRequests).toBeGreaterThan(0);
    expect(published).toHaveLength(N + 25);

    const admin = server.token('adm_crash', 'admin');
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: '{ events(filter: { sources: ["crash-d"] }, first: 500, order: OLDEST_FIRST) { edges { node { id } } } }' }),
    });
    const logged = ((await response.json()) as any).data.events.edges.map((e: any) => e.node.id as string);
    expect(logged).toHaveLength(N + 25);
    expect(new Set(logged).size).toBe(N + 25);
    expect(logged).toEqual(published.map((e) => e.id));

    // The same key again is the same event, not a new one.
    const again = await publisher.publish('INVENTORY_ALERT', payloadOf('INVENTORY_ALERT', { sku: 'SKU-0' }), { userId: 'sup_crash', idempotencyKey: 'crash-d:0' });
    expect(again.id).toBe(published[0]!.id);
  }, 90_000);
});
