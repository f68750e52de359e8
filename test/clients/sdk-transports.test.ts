/**
 * The SDK's client against a real Herald (in-process, real sockets): typed delivery over WebSocket and SSE,
 * `auto` landing on SSE when a proxy refuses or swallows the WebSocket upgrade and moving back to WebSocket
 * once it gets through, and stopping with the reason when the hub revokes the session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHeraldClient, createHeraldPublisher, type HeraldClient } from '../../clients/sdk/src/index.js';
import { startServer, type TestServer } from '../utils/server.js';
import { startHttpProxy, type HttpProxy } from '../utils/http-proxy.js';
import { payloadOf, recorder, WebSocket } from '../utils/sdk.js';
import { sleep, waitFor } from '../utils/deferred.js';

describe('@herald/sdk client transports', () => {
  let server: TestServer;
  const clients: HeraldClient[] = [];
  const proxies: HttpProxy[] = [];
  const client = (options: Parameters<typeof createHeraldClient>[0]) => {
    const c = createHeraldClient({ webSocketImpl: WebSocket, initialRetryDelayMs: 100, maxRetryDelayMs: 1000, ...options });
    clients.push(c);
    return c;
  };
  const publisher = () => createHeraldPublisher({ url: server.graphqlUrl, token: server.token('svc-sdk', 'service'), source: 'sdk-tests' });
  const orderFor = (customerId: string, n: number) =>
    publisher().publish('ORDER_CREATED', payloadOf('ORDER_CREATED', { customerId, orderId: `ord_${customerId}_${n}` }), { userId: customerId });

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(proxies.map((p) => p.close()));
    await server.close({ removeData: true });
  });

  it('delivers typed events over WebSocket in order, and says so in status()', async () => {
    const c = client({ url: server.graphqlUrl, token: server.token('cus_ws1', 'customer'), transport: 'websocket' });
    const rec = recorder<{ id: string; cursor: string; orderId: string; amount: number }>();
    c.on('ORDER_CREATED', (event) => rec.handler(event));
    await waitFor(() => c.status().state === 'connected', 5000, 'connected');
    await sleep(50);
    const sent = [await orderFor('cus_ws1', 1), await orderFor('cus_ws1', 2), await orderFor('cus_ws1', 3)];
    await rec.waitForCount(3);
    expect(rec.ids()).toEqual(sent.map((e) => e.id));
    expect(rec.events[0]!.orderId).toBe('ord_cus_ws1_1');
    expect(c.status()).toMatchObject({ state: 'connected', transport: 'websocket', fallback: false, lastCursor: sent[2]!.cursor });
  });

  it('delivers over SSE (fetch + parser) with the cursor of each event', async () => {
    const c = client({ url: server.graphqlUrl, getToken: () => server.token('cus_sse1', 'customer'), transport: 'sse' });
    const rec = recorder<{ id: string; cursor: string }>();
    c.on(['ORDER_CREATED', 'ORDER_CONFIRMED'], rec.handler);
    await waitFor(() => c.status().state === 'connected', 5000, 'connected');
    await sleep(50);
    const sent = [await orderFor('cus_sse1', 1), await orderFor('cus_sse1', 2)];
    await rec.waitForCount(2);
    expect(rec.events.map((e) => e.cursor)).toEqual(sent.map((e) => e.cursor));
    expect(c.status()).toMatchObject({ transport: 'sse', fallback: false });
  });

  for (const mode of ['refuse', 'swallow'] as const) {
    it(`auto: lands on SSE when a proxy ${mode === 'refuse' ? 'refuses (403)' : 'swallows'} the WebSocket upgrade, and receives everything`, async () => {
      const proxy = await startHttpProxy(Number(new URL(server.url).port), mode);
      proxies.push(proxy);
      const user = `cus_fb_${mode}`;
      const c = client({ url: proxy.graphqlUrl, getToken: () => server.token(user, 'customer'), transport: 'auto', connectTimeoutMs: 1000 });
      const rec = recorder<{ id: string; cursor: string }>();
      c.on('*', rec.handler);
      await waitFor(() => c.status().state === 'connected', 8000, 'connected');
      expect(proxy.upgrades).toBeGreaterThanOrEqual(1);
      expect(c.status()).toMatchObject({ state: 'connected', transport: 'sse', fallback: true });
      await sleep(50);
      const sent = [];
      for (let i = 0; i < 5; i++) sent.push(await orderFor(user, i));
      await rec.waitForCount(5);
      await sleep(100);
      expect(rec.ids()).toEqual(sent.map((e) => e.id));
    });
  }

  it('auto: moves from SSE back to WebSocket once the upgrade gets through, without a gap or a duplicate', async () => {
    const proxy = await startHttpProxy(Number(new URL(server.url).port), 'refuse');
    proxies.push(proxy);
    const user = 'cus_fb_back';
    const c = client({ url: proxy.graphqlUrl, getToken: () => server.token(user, 'customer'), webSocketRetryMs: 1500 });
    const rec = recorder<{ id: string; cursor: string }>();
    c.on('ORDER_CREATED', rec.handler);
    await waitFor(() => c.status().transport === 'sse', 8000, 'on SSE');
    await sleep(50);
    proxy.mode = 'pass';
    const sent = [];
    const deadline = Date.now() + 10_000;
    // Publish all along the switch.
    while ((c.status().transport !== 'websocket' || sent.length < 10) && Date.now() < deadline) {
      sent.push(await orderFor(user, sent.length));
      await sleep(100);
    }
    for (let i = 0; i < 3; i++) sent.push(await orderFor(user, sent.length));
    expect(c.status()).toMatchObject({ transport: 'websocket', fallback: false });
    await rec.waitForCount(sent.length);
    await sleep(150);
    expect(rec.ids()).toEqual(sent.map((e) => e.id));
  });

  it('resumes from the cursor kept in storage when a new client (a reloaded page) starts', async () => {
    const user = 'cus_store';
    const items = new Map<string, string>();
    const localStorageLike = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) };
    const first = client({ url: server.graphqlUrl, token: server.token(user, 'customer'), storage: localStorageLike });
    const seen = recorder<{ id: string; cursor: string }>();
    first.on('ORDER_CREATED', seen.handler);
    await waitFor(() => first.status().state === 'connected', 5000, 'connected');
    await sleep(50);
    const sent = [await orderFor(user, 1), await orderFor(user, 2)];
    await seen.waitForCount(2);
    first.close();
    expect(items.get('herald:cursor:events:ORDER_CREATED')).toBe(sent[1]!.cursor);

    const whileAway = [await orderFor(user, 3), await orderFor(user, 4)];
    const second = client({ url: server.graphqlUrl, token: server.token(user, 'customer'), storage: localStorageLike });
    const resumed = recorder<{ id: string; cursor: string }>();
    second.on('ORDER_CREATED', resumed.handler);
    await resumed.waitForCount(2);
    const live = await orderFor(user, 5);
    await resumed.waitForCount(3);
    await sleep(100);
    expect(resumed.ids()).toEqual([...whileAway, live].map((e) => e.id));
  });

  it('calls onGap when the hub does not know the stored cursor, then goes on live', async () => {
    const user = 'cus_gap';
    const gaps: unknown[] = [];
    const store = new Map([['herald:cursor:events:ORDER_CREATED', '999999999']]);
    const c = client({
      url: server.graphqlUrl,
      token: server.token(user, 'customer'),
      storage: { get: async (k: string) => store.get(k), set: (k: string, v: string) => void store.set(k, v) },
      onGap: (gap) => gaps.push(gap),
    });
    const rec = recorder<{ id: string; cursor: string }>();
    c.on('ORDER_CREATED', rec.handler);
    await waitFor(() => gaps.length === 1, 5000, 'onGap');
    expect(gaps[0]).toMatchObject({ key: 'events:ORDER_CREATED', code: 'CURSOR_UNKNOWN', cursor: '999999999' });
    await sleep(100);
    const live = await orderFor(user, 1);
    await rec.waitForCount(1);
    expect(rec.ids()).toEqual([live.id]);
    expect(c.status().subscriptions[0]).toMatchObject({ state: 'active', cursor: live.cursor });
  });

  it('runs one subscription for on/off/on in one tick (React StrictMode) and hands each event to each handler once', async () => {
    const user = 'cus_strict';
    const c = client({ url: server.graphqlUrl, token: server.token(user, 'customer'), transport: 'websocket' });
    const a = recorder<{ id: string; cursor: string }>();
    const b = recorder<{ id: string; cursor: string }>();
    const offA = c.on('ORDER_CREATED', a.handler);
    offA();
    c.on('ORDER_CREATED', a.handler);
    c.on('ORDER_CREATED', a.handler); // the same handler twice is one registration
    c.on(['ORDER_CREATED'], b.handler);
    await waitFor(() => c.status().state === 'connected', 5000, 'connected');
    expect(c.status().subscriptions).toHaveLength(1);
    await sleep(50);
    const sent = [await orderFor(user, 1), await orderFor(user, 2)];
    await a.waitForCount(2);
    await b.waitForCount(2);
    await sleep(100);
    expect(a.ids()).toEqual(sent.map((e) => e.id));
    expect(b.ids()).toEqual(sent.map((e) => e.id));
    c.off('ORDER_CREATED', a.handler);
    c.off('ORDER_CREATED', b.handler);
    await waitFor(() => c.status().state === 'disconnected', 2000, 'closed when the last handler leaves');
    expect(c.status().subscriptions).toHaveLength(0);
  });

  it('stops and says why when the hub revokes the session (4031)', async () => {
    const c = client({ url: server.graphqlUrl, getToken: () => server.token('cus_revoked', 'customer'), transport: 'websocket' });
    c.on('*', () => {});
    await waitFor(() => c.status().state === 'connected', 5000, 'connected');
    const { body } = await server.gql('mutation { closeUserSessions(userId: "cus_revoked", reason: "account locked") }', {}, server.token('adm_1', 'admin'));
    expect(body.data.closeUserSessions).toBe(1);
    await waitFor(() => c.status().state === 'disconnected', 5000, 'disconnected');
    await sleep(300);
    expect(c.status()).toMatchObject({ state: 'disconnected', transport: null, lastClose: { code: 4031 } });
    expect(c.status().error).toMatchObject({ code: 'CONNECTION_CLOSED', closeCode: 4031 });
  });
});
