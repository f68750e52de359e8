/**
 * @herald/react against a real Herald in its own process, with the real SDK: live events through the hooks
 * (once each, newest first, bounded), StrictMode's double mount opening one subscription (counted on the hub
 * with `connectionStats`, where each SSE subscription is one stream), delivery tracking, status, and the
 * generated query hooks. Server rendering: react-ssr.test.ts (a file of its own: two renderers of one context
 * in one module graph make React warn).
 */
import { createElement, type ReactNode } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHeraldClient, createHeraldPublisher, type FetchLike, type HeraldClient, type HeraldClientOptions, type PublishedEvent } from '../../clients/sdk/src/index.js';
import {
  HeraldProvider,
  useDeliveryTracking,
  useEventByIdQuery,
  useEventsLogQuery,
  useHeraldEvents,
  useHeraldStatus,
} from '../../clients/react/src/index.js';
import { createChildServer, type ChildServer } from '../utils/child-server.js';
import { sleep, waitFor } from '../utils/deferred.js';
import { renderHook, type RenderedHook } from '../utils/react.js';
import { payloadOf, WebSocket } from '../utils/sdk.js';

describe('@herald/react', () => {
  let server: ChildServer;
  const mounted: Array<RenderedHook<unknown>> = [];
  const clients: HeraldClient[] = [];
  const publisher = () => createHeraldPublisher({ url: server.graphqlUrl, token: server.token('svc-react', 'service'), source: 'react-tests' });
  const options = (user: string, extra: Partial<HeraldClientOptions> = {}): HeraldClientOptions => ({
    url: server.graphqlUrl,
    getToken: () => server.token(user, 'customer'),
    webSocketImpl: WebSocket,
    transport: 'websocket',
    initialRetryDelayMs: 100,
    ...extra,
  });
  const withOptions = (opts: HeraldClientOptions) => (children: ReactNode) => createElement(HeraldProvider, { options: opts }, children);
  const render = <R>(...args: Parameters<typeof renderHook<R>>) => {
    const hook = renderHook(...args);
    mounted.push(hook as RenderedHook<unknown>);
    return hook;
  };
  const liveStreams = async () => {
    const admin = createHeraldClient({ url: server.graphqlUrl, token: server.token('adm_react', 'admin'), transport: 'sse' });
    clients.push(admin);
    const data = await admin.query<{ connectionStats: { total: number } }>('{ connectionStats { total } }');
    return data.connectionStats.total;
  };
  const active = (status: { subscriptions: ReadonlyArray<{ state: string }> }) => status.subscriptions.length > 0 && status.subscriptions.every((s) => s.state === 'active');

  beforeAll(async () => {
    server = await createChildServer();
    await server.start();
  });
  afterAll(async () => {
    for (const hook of mounted) hook.unmount();
    for (const c of clients) c.close();
    await server?.dispose();
  });

  it('useHeraldEvents shows each published event once, newest first, bounded by limit', async () => {
    const user = 'cus_react_events';
    const seen: string[] = [];
    const hook = render(
      () => useHeraldEvents(['ORDER_CREATED', 'ORDER_CONFIRMED'], { limit: 3, onEvent: (e) => seen.push(e.id) }),
      withOptions(options(user)),
    );
    await hook.waitFor((v) => v.status.state === 'connected' && active(v.status), 'subscribed');
    await sleep(50);
    const sent = [];
    for (let i = 0; i < 5; i++) {
      const type = i % 2 ? 'ORDER_CONFIRMED' : 'ORDER_CREATED';
      sent.push(await publisher().publish(type, payloadOf(type, { customerId: user, orderId: `ord_r${i}` }), { userId: user }));
    }
    const last = sent[4]!.id;
    const value = await hook.waitFor((v) => v.latest?.id === last, 'the last event');
    expect(value.events.map((e) => e.id)).toEqual(sent.slice(2).reverse().map((e) => e.id));
    expect(value.events[0]!.type).toBe('ORDER_CREATED');
    await sleep(200);
    expect(seen).toEqual(sent.map((e) => e.id)); // onEvent: once each, in log order
    expect(hook.current!.events.map((e) => e.id)).toEqual(sent.slice(2).reverse().map((e) => e.id));
  });

  for (const owner of ['provider', 'app'] as const) {
    it(`opens one subscription under StrictMode double mounting, client owned by the ${owner} (one SSE stream on the hub)`, async () => {
      const user = `cus_react_strict_${owner}`;
      const before = await liveStreams();
      let streamRequests = 0;
      const countingFetch: FetchLike = (input, init) => {
        if (new Headers(init?.headers as HeadersInit).get('accept')?.includes('text/event-stream')) streamRequests++;
        return fetch(input, init as RequestInit);
      };
      const opts = options(user, { transport: 'sse', fetch: countingFetch });
      let wrap = withOptions(opts);
      if (owner === 'app') {
        // Mounted with a client at once: the hooks' own effects run on/off/on (the provider's run before any client).
        const client = createHeraldClient(opts);
        clients.push(client);
        wrap = (children) => createElement(HeraldProvider, { client }, children);
      }
      const hook = render(() => ({ events: useHeraldEvents('*'), status: useHeraldStatus() }), wrap);
      await hook.waitFor((v) => v.status.state === 'connected' && active(v.status), 'subscribed');
      await sleep(300);
      expect(streamRequests).toBe(1);
      expect(hook.current!.status.subscriptions).toHaveLength(1);
      expect(await liveStreams()).toBe(before + 1);
      const sent = await publisher().publish('ORDER_CREATED', payloadOf('ORDER_CREATED', { customerId: user }), { userId: user });
      await hook.waitFor((v) => v.events.latest?.id === sent.id, 'the event');
      expect(hook.current!.events.events).toHaveLength(1);
      hook.unmount();
      await waitFor(async () => (await liveStreams()) === before, 5000, 'the stream to close on unmount');
    });
  }

  it('useDeliveryTracking follows status, location and ETA updates of one delivery', async () => {
    const user = 'cus_react_track';
    const deliveryId = 'dlv_react_1';
    const base = { deliveryId, customerId: user, orderId: 'ord_react_track' };
    const pub = publisher();
    // The hub lets a customer track a delivery once it has seen one of its status events.
    await pub.publish('DELIVERY_ACCEPTED', payloadOf('DELIVERY_ACCEPTED', base), { userId: user });
    const hook = render(() => useDeliveryTracking(deliveryId), withOptions(options(user)));
    await hook.waitFor((v) => v.status.state === 'connected' && active(v.status), 'tracking');
    await sleep(50);
    await pub.publish('DELIVERY_IN_TRANSIT', payloadOf('DELIVERY_IN_TRANSIT', { ...base, currentLocation: { latitude: 52.5, longitude: 13.4 }, etaSeconds: 700 }), { userId: user });
    await hook.waitFor((v) => v.step === 'IN_TRANSIT', 'in transit');
    expect(hook.current!.position).toMatchObject({ latitude: 52.5, longitude: 13.4 });
    expect(hook.current!.eta).toMatchObject({ seconds: 700, leg: 'TO_DROPOFF' });
    await pub.publish('LOCATION_UPDATED', payloadOf('LOCATION_UPDATED', { deliveryId, latitude: 52.51, longitude: 13.41, heading: 90 }), { userId: user });
    await hook.waitFor((v) => v.position?.latitude === 52.51, 'the new position');
    await pub.publish('ETA_UPDATED', payloadOf('ETA_UPDATED', { ...base, etaAt: '2030-01-01T12:10:00.000Z', etaSeconds: 420, delayReason: 'traffic' }), { userId: user });
    const value = await hook.waitFor((v) => v.eta?.seconds === 420, 'the new ETA');
    expect(value.eta).toMatchObject({ at: '2030-01-01T12:10:00.000Z', delayReason: 'traffic', leg: 'TO_DROPOFF' });
    expect(value.position).toMatchObject({ latitude: 52.51, longitude: 13.41, heading: 90 });
    expect(value.trail.map((p) => p.latitude)).toEqual([52.5, 52.51]);
    expect(value.step).toBe('IN_TRANSIT');
    expect(value.lastEvent?.type).toBe('ETA_UPDATED');
  });

  it('useHeraldStatus reports the connection, and an app-owned client is left open on unmount', async () => {
    const client = createHeraldClient(options('cus_react_status'));
    clients.push(client);
    const hook = render(
      () => {
        useHeraldEvents('PAYMENT_FAILED');
        return useHeraldStatus();
      },
      (children) => createElement(HeraldProvider, { client }, children),
    );
    const status = await hook.waitFor((s) => s.state === 'connected', 'connected');
    expect(status).toMatchObject({ transport: 'websocket', fallback: false });
    hook.unmount();
    await waitFor(() => client.status().state === 'disconnected', 5000, 'the last handler to leave');
    // Not closed: a new handler reconnects.
    client.on('PAYMENT_FAILED', () => {});
    await waitFor(() => client.status().state === 'connected', 5000, 'reconnected');
  });

  it('generated query hooks fetch typed results: the events log page and an event by id', async () => {
    const user = 'cus_react_log';
    const pub = publisher();
    const sent: PublishedEvent[] = [];
    for (let i = 0; i < 3; i++) sent.push(await pub.publish('ORDER_CREATED', payloadOf('ORDER_CREATED', { customerId: user, orderId: `ord_log${i}` }), { userId: user }));
    const wrap = withOptions(options(user));
    const page = render(() => useEventsLogQuery({ first: 2, filter: { types: ['ORDER_CREATED'] } }), wrap);
    const first = await page.waitFor((r) => !r.loading && r.data !== undefined, 'the first page');
    expect(first.error).toBeUndefined();
    expect(first.data!.events.edges.map((e) => e.node.id)).toEqual([sent[2]!.id, sent[1]!.id]);
    expect(first.data!.events.pageInfo.hasNextPage).toBe(true);
    const after = first.data!.events.pageInfo.endCursor!;
    const next = render(() => useEventsLogQuery({ first: 2, after, filter: { types: ['ORDER_CREATED'] } }), wrap);
    const second = await next.waitFor((r) => !r.loading && r.data !== undefined, 'the second page');
    expect(second.data!.events.edges.map((e) => e.node.id)).toEqual([sent[0]!.id]);
    expect(second.data!.events.pageInfo.hasNextPage).toBe(false);

    const one = render(() => useEventByIdQuery({ id: sent[1]!.id }), wrap);
    const found = await one.waitFor((r) => !r.loading && r.data !== undefined, 'the event');
    expect(found.data!.event).toMatchObject({ __typename: 'OrderCreatedEvent', id: sent[1]!.id, type: 'ORDER_CREATED', source: 'react-tests' });

    const refused = render(() => useEventByIdQuery({ id: sent[1]!.id }), withOptions(options('cus_someone_else')));
    const hidden = await refused.waitFor((r) => !r.loading, 'the answer');
    expect(hidden.data?.event ?? null).toBeNull();
  });

  it('refetchOnEvents keeps a query current with live events', async () => {
    const user = 'cus_react_refetch';
    const hook = render(
      () => ({ log: useEventsLogQuery({ first: 10 }, { refetchOnEvents: ['PAYMENT_FAILED'] }), status: useHeraldStatus() }),
      withOptions(options(user)),
    );
    await hook.waitFor((v) => !v.log.loading && v.log.data?.events.edges.length === 0 && active(v.status), 'an empty log, subscribed');
    await sleep(50);
    const sent = await publisher().publish('PAYMENT_FAILED', payloadOf('PAYMENT_FAILED', { customerId: user }), { userId: user });
    const value = await hook.waitFor((v) => v.log.data?.events.edges[0]?.node.id === sent.id, 'the refetched log');
    expect(value.log.data!.events.edges).toHaveLength(1);
  });
});
