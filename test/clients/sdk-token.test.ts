/**
 * Tokens that expire while connected: Herald closes the connection when the token lapses (WebSocket 4401, SSE
 * final `event: error` with code 4401); the SDK asks `getToken()` for a fresh one, reconnects at once and resumes
 * from its cursor, so the handler misses nothing and sees nothing twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHeraldClient, createHeraldPublisher, type HeraldClient, type PublishedEvent } from '../../clients/sdk/src/index.js';
import { startServer, type TestServer } from '../utils/server.js';
import { payloadOf, recorder, WebSocket } from '../utils/sdk.js';
import { sleep, waitFor } from '../utils/deferred.js';

describe('@herald/sdk with tokens that expire while connected', () => {
  let server: TestServer;
  const clients: HeraldClient[] = [];

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server.close({ removeData: true });
  });

  for (const transport of ['websocket', 'sse'] as const) {
    it(`refreshes the token through getToken and loses nothing (${transport})`, async () => {
      const user = `cus_exp_${transport}`;
      let tokens = 0;
      const c = createHeraldClient({
        url: server.graphqlUrl,
        transport,
        webSocketImpl: WebSocket,
        getToken: () => {
          tokens++;
          return server.token(user, 'customer', '2s'); // JWT exp has a resolution of 1 s: lives 1-2 s
        },
      });
      clients.push(c);
      const rec = recorder<{ id: string; cursor: string }>();
      c.onStatus(rec.status);
      c.on('PAYMENT_FAILED', rec.handler);
      await waitFor(() => c.status().state === 'connected', 5000, 'connected');
      await sleep(50);

      const publisher = createHeraldPublisher({ url: server.graphqlUrl, token: server.token('svc-exp', 'service'), source: 'token-test' });
      const published: PublishedEvent[] = [];
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        published.push(await publisher.publish('PAYMENT_FAILED', payloadOf('PAYMENT_FAILED', { customerId: user }), { userId: user }));
        await sleep(60);
      }
      await rec.waitForCount(published.length, 10_000);
      await sleep(150);
      expect(rec.ids()).toEqual(published.map((e) => e.id));
      // Two or more expiries, each followed by a fresh token.
      const expiries = rec.statuses.filter((s, i) => s.lastClose?.code === 4401 && rec.statuses[i - 1]?.lastClose !== s.lastClose).length;
      expect(expiries).toBeGreaterThanOrEqual(2);
      expect(tokens).toBeGreaterThanOrEqual(3);
      await waitFor(() => c.status().state === 'connected', 5000, 'connected again');
      expect(c.status()).toMatchObject({ state: 'connected', transport });
    }, 30_000);
  }

  it('stops with the reason when a fixed token expires (nothing to refresh it with)', async () => {
    const c = createHeraldClient({ url: server.graphqlUrl, transport: 'websocket', webSocketImpl: WebSocket, token: server.token('cus_fixed', 'customer', '1s') });
    clients.push(c);
    c.on('*', () => {});
    await waitFor(() => c.status().lastClose?.code === 4401, 5000, 'closed with 4401');
    await sleep(100);
    expect(c.status()).toMatchObject({ state: 'disconnected', error: { code: 'CONNECTION_CLOSED', closeCode: 4401 } });
  });
});
