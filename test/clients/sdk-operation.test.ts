/**
 * `client.subscribe(document, variables, handlers)`: an app's own subscription document on the SDK's connection,
 * over WebSocket and SSE, started again after the connection is lost (here: the hub closes the user's sessions as a restart does),
 * stopped by the function it returns, with the connection closed once nothing needs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHeraldClient, type HeraldClient } from '../../clients/sdk/src/index.js';
import { startServer, type TestServer } from '../utils/server.js';
import { WebSocket } from '../utils/sdk.js';
import { sleep, waitFor } from '../utils/deferred.js';
import { publish } from '../utils/publish.js';

const STATE = 'subscription { notificationStateChanged { unreadCount readThrough } }';

describe('@herald/sdk client.subscribe', () => {
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
    it(`delivers each result, runs again after a reconnect, and stops when asked (${transport})`, async () => {
      const user = `cus_op_${transport}`;
      await publish(server, { type: 'order_created', userId: user });
      await publish(server, { type: 'order_created', userId: user });
      const c = createHeraldClient({ url: server.graphqlUrl, transport, webSocketImpl: WebSocket, getToken: () => server.token(user, 'customer'), initialRetryDelayMs: 50, maxRetryDelayMs: 200 });
      clients.push(c);
      const states: Array<{ unreadCount: number; readThrough: string | null }> = [];
      const errors: unknown[] = [];
      const stop = c.subscribe<{ notificationStateChanged: { unreadCount: number; readThrough: string | null } }>(STATE, {}, {
        next: (data) => states.push(data.notificationStateChanged),
        error: (error) => errors.push(error),
      });
      await waitFor(() => states.length >= 1, 5000, 'the first state');
      expect(states[0]).toEqual({ unreadCount: 2, readThrough: null });

      await server.gql('mutation { markAllNotificationsRead { unreadCount } }', {}, server.token(user, 'customer'));
      await waitFor(() => states.length >= 2, 5000, 'the state after mark all read');
      expect(states[1]!.unreadCount).toBe(0);

      // The hub ends the user's sessions as a restart does (1012): the SDK reconnects and the operation starts
      // again (its first result again).
      server.herald.hub.connections.closeUser(user, 1012, 'Service restart');
      await waitFor(() => states.length >= 3, 10_000, 'the state after the reconnect');
      expect(states[2]!.unreadCount).toBe(0);
      expect(errors).toEqual([]);

      stop();
      await waitFor(() => c.status().state === 'disconnected', 5000, 'the connection closed once nothing needs it');
      await server.gql('mutation { clearNotifications { unreadCount } }', {}, server.token(user, 'customer'));
      await sleep(300);
      expect(states).toHaveLength(3);
    }, 30_000);
  }

  it('passes a refusal to error, without restarting the operation', async () => {
    const c = createHeraldClient({ url: server.graphqlUrl, transport: 'websocket', webSocketImpl: WebSocket, token: server.token('svc_op', 'service') });
    clients.push(c);
    const errors: Array<{ code: string }> = [];
    c.subscribe(STATE, {}, { next: () => {}, error: (error) => errors.push(error as never) });
    await waitFor(() => errors.length === 1, 5000, 'the refusal');
    expect(errors[0]!.code).toBe('FORBIDDEN');
    await sleep(300);
    expect(errors).toHaveLength(1);
  });
});
