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
