/**
 * The grouped live path (one execution and one serialization per group and event) against what
 * per-subscriber execution gives: the same bytes for every client, only what each viewer may see,
 * nothing lost or doubled when a resuming subscriber joins while publishers keep publishing, and
 * location updates collapsing for a client that cannot keep up.
 */
import { execute, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../utils/server.js';
import { rawSocket, sseSubscribe, type RawSocket } from '../utils/clients.js';
import { publish, type TestInput } from '../utils/publish.js';
import { sleep, waitFor } from '../utils/deferred.js';
import { examplePayload } from '../../src/events/examples.js';
import { buildSchema } from '../../src/graphql/schema.js';
import { eventResolvers } from '../../src/graphql/resolvers/events.js';
import { createRowBudget } from '../../src/graphql/limits.js';
import { canSee } from '../../src/events/visibility.js';
import type { Role } from '../../src/events/catalogue.js';
import type { EventId } from '../../src/events/model.js';

const RICH = /* GraphQL */ `
  subscription Rich($types: [EventType!], $withItems: Boolean!, $after: String) {
    events(types: $types, after: $after) {
      __typename
      kind: type
      ...Common
      ... on OrderCreatedEvent { orderId total: amount items @include(if: $withItems) { sku quantity } }
      ... on EarningRecordedEvent { breakdown { tip } }
    }
  }
  fragment Common on Event { id level userId cursor timestamp roles }
`;
const TRACK = /* GraphQL */ `
  subscription Track($id: ID!) { deliveryTracking(deliveryId: $id) { __typename id type ... on LocationUpdatedEvent { latitude longitude } } }
`;

interface Client {
  readonly sub: string;
  readonly role: Role;
  readonly query: string;
  readonly variables: Record<string, unknown>;
  socket?: RawSocket;
}

describe('grouped live delivery', () => {
  let server: TestServer;
  const schema = buildSchema([eventResolvers]);

  /** What per-subscriber execution (graphql-js, this viewer's context) gives for one stored event. */
  async function expectedPayload(client: Client, id: string): Promise<string> {
    const event = await server.herald.store.get(id as EventId);
    const result = await execute({
      schema,
      document: parse(client.query),
      rootValue: event,
      variableValues: client.variables,
      contextValue: { viewer: { userId: client.sub, role: client.role, expiresAt: undefined }, hub: server.herald.hub, transport: 'websocket', budget: createRowBudget(1000) },
    });
    return JSON.stringify(result);
  }

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('sends every client the bytes per-subscriber execution gives, and only what its viewer may see', async () => {
    const clients: Client[] = [
      { sub: 'cus_g1', role: 'customer', query: RICH, variables: { withItems: true } },
      { sub: 'cus_g2', role: 'customer', query: RICH, variables: { withItems: true } }, // same group as cus_g1
      { sub: 'cus_g3', role: 'customer', query: RICH, variables: { withItems: false } },
      { sub: 'cus_g4', role: 'customer', query: RICH, variables: { withItems: true, types: ['ORDER_CREATED'] } },
      { sub: 'dp_g1', role: 'delivery_partner', query: RICH, variables: { withItems: true } },
      { sub: 'adm_g1', role: 'admin', query: RICH, variables: { withItems: true } },
      { sub: 'cus_g1', role: 'customer', query: TRACK, variables: { id: 'dlv_g1' } },
    ];
    await publish(server, { type: 'delivery_accepted', userId: 'cus_g1', data: examplePayload('delivery_accepted', { deliveryId: 'dlv_g1', customerId: 'cus_g1', deliveryPartnerId: 'dp_g1' }) });
    for (const [i, client] of clients.entries()) {
      client.socket = await rawSocket(server.wsUrl, server.token(client.sub, client.role));
      client.socket.send({ id: `op-${i}`, type: 'subscribe', payload: { query: client.query, variables: client.variables } });
    }
    await sleep(150);
    const inputs: TestInput[] = [
      { type: 'order_created', userId: 'cus_g1', data: examplePayload('order_created', { customerId: 'cus_g1' }) },
      { type: 'order_created', userId: 'cus_g2' },
      { type: 'order_created', roles: ['customer'] },
      { type: 'earning_recorded', userId: 'dp_g1' },
      { type: 'bonus_earned', roles: ['delivery_partner'] },
      { type: 'system_alert' },
      { type: 'payment_failed', userId: 'cus_g3' },
      { type: 'location_updated', userId: 'dp_g1', data: examplePayload('location_updated', { deliveryId: 'dlv_g1', deliveryPartnerId: 'dp_g1', latitude: 52.52 }) },
    ];
    const published = [];
    for (const input of inputs) published.push({ ...(await publish(server, input)), input });

    for (const [i, client] of clients.entries()) {
      const viewer = { userId: client.sub, role: client.role };
      const types = client.variables['types'] as string[] | undefined;
      const wanted = published.filter((p) => {
        if (client.query === TRACK) return p.input.type === 'location_updated';
        const stored = { type: p.input.type, userId: p.input.userId ?? null, roles: (p.input.roles ?? []) as Role[] };
        return canSee(viewer, stored) && (!types || types.includes(p.type));
      });
      const socket = client.socket!;
      await waitFor(() => socket.frames.filter((f) => f.id === `op-${i}` && f.type === 'next').length >= wanted.length, 5000, `${wanted.length} events for ${client.sub}`);
      await sleep(50);
      const frames = socket.raw.filter((text) => text.startsWith(`{"id":"op-${i}","type":"next"`));
      expect(frames.map((text) => JSON.parse(text).payload.data[client.query === TRACK ? 'deliveryTracking' : 'events'].id)).toEqual(wanted.map((p) => p.id));
      for (const [n, text] of frames.entries()) {
        const prefix = `{"id":"op-${i}","type":"next","payload":`;
        expect(text.startsWith(prefix) && text.endsWith('}')).toBe(true);
        expect(text.slice(prefix.length, -1)).toBe(await expectedPayload(client, wanted[n]!.id));
      }
    }
    for (const client of clients) client.socket!.socket.close();
  });

  it('serves SSE streams the same shared bytes with their own id: cursor', async () => {
    const variables = { withItems: true };
    const a = sseSubscribe(server.graphqlUrl, server.token('cus_s1', 'customer'), RICH, variables);
    const b = sseSubscribe(server.graphqlUrl, server.token('cus_s2', 'customer'), RICH, variables);
    await Promise.all([a.opened, b.opened]);
    await sleep(100);
    const event = await publish(server, { type: 'order_created', roles: ['customer'] });
    const [[x], [y]] = await Promise.all([a.waitForCount(1), b.waitForCount(1)]);
    expect(x!.id).toBe(event.cursor);
    expect(JSON.stringify(x!.payload)).toBe(JSON.stringify(y!.payload));
    expect(JSON.stringify(x!.payload)).toBe(await expectedPayload({ sub: 'cus_s1', role: 'customer', query: RICH, variables }, event.id));
    a.close();
    b.close();
  });

  it('loses and doubles nothing when a resuming subscriber joins its group while publishers keep publishing', async () => {
    const first = await publish(server, { type: 'order_created', userId: 'cus_join' });
    for (let i = 0; i < 40; i++) await publish(server, { type: 'order_created', userId: 'cus_join' });
    const live = await rawSocket(server.wsUrl, server.token('cus_join', 'customer'));
    live.send({ id: 'live', type: 'subscribe', payload: { query: RICH, variables: { withItems: false } } });
    await sleep(100);
    const resumer = await rawSocket(server.wsUrl, server.token('cus_join', 'customer'));
    let publishing = true;
    const during: string[] = [];
    const publisher = (async () => {
      while (publishing) during.push((await publish(server, { type: 'order_created', userId: 'cus_join' })).id);
    })();
    await sleep(20);
    resumer.send({ id: 'resume', type: 'subscribe', payload: { query: RICH, variables: { withItems: false, after: first.cursor } } });
    await sleep(300);
    publishing = false;
    await publisher;
    const answer = await server.gql(`{ events(first: 500, order: OLDEST_FIRST, after: "${first.cursor}") { edges { node { id } } } }`, {}, server.token("cus_join", "customer"));
    expect(answer.body.errors).toBeUndefined();
    const { events } = answer.body.data!;
    const logged = events.edges.map((e: any) => e.node.id);
    await waitFor(() => resumer.frames.filter((f) => f.id === 'resume').length >= logged.length, 5000, 'resumer caught up');
    await sleep(100);
    expect(resumer.frames.filter((f) => f.id === 'resume').map((f) => f.payload.data.events.id)).toEqual(logged);
    expect(live.frames.filter((f) => f.id === 'live').map((f) => f.payload.data.events.id)).toEqual(during);
    live.socket.close();
    resumer.socket.close();
  });

  it('collapses queued location updates of one delivery to the latest for a client that cannot keep up, dropping nothing else', async () => {
    const user = 'cus_collapse';
    await publish(server, { type: 'delivery_accepted', userId: user, data: examplePayload('delivery_accepted', { deliveryId: 'dlv_c1', customerId: user, deliveryPartnerId: 'dp_c1' }) });
    const slow = await rawSocket(server.wsUrl, server.token(user, 'customer'));
    slow.send({ id: 't', type: 'subscribe', payload: { query: 'subscription { events { __typename id type ... on LocationUpdatedEvent { latitude } ... on OrderCreatedEvent { notes } } }' } });
    await sleep(100);
    (slow.socket as any)._socket.pause();
    const [session] = server.herald.hub.connections.sessionsOf(user);
    const big = { ...examplePayload('order_created', { customerId: user }), notes: 'z'.repeat(20_000) };
    const orders: string[] = [];
    for (let i = 0; i < 400 && session!.writer.queued === 0; i++) orders.push((await publish(server, { type: 'order_created', userId: user, data: big })).id);
    expect(session!.writer.queued).toBeGreaterThan(0); // the socket is backed up: frames wait in the session's queue
    let latitude = 0;
    for (let i = 0; i < 200; i++) {
      latitude = 50 + i / 1000;
      await publish(server, { type: 'location_updated', userId: user, data: examplePayload('location_updated', { deliveryId: 'dlv_c1', deliveryPartnerId: 'dp_c1', latitude }) });
    }
    const closing = await publish(server, { type: 'order_created', userId: user });
    orders.push(closing.id);
    expect(session!.writer.queued).toBeLessThan(20);
    (slow.socket as any)._socket.resume();
    await waitFor(() => slow.frames.some((f) => f.payload?.data?.events?.id === closing.id), 10_000, 'the last order');
    const received = slow.frames.filter((f) => f.id === 't').map((f) => f.payload.data.events);
    const locations = received.filter((e) => e.type === 'LOCATION_UPDATED');
    expect(locations.length).toBeLessThan(20);
    expect(locations.at(-1).latitude).toBe(latitude);
    expect(received.filter((e) => e.type === 'ORDER_CREATED').map((e) => e.id)).toEqual(orders);
    slow.socket.close();
  }, 60_000);
});
