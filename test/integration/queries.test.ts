import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../utils/server.js';
import { publish } from '../utils/publish.js';
import { examplePayload } from '../../src/events/examples.js';
import { cursorParts } from '../utils/cursors.js';
import { wsClient } from '../utils/clients.js';

const PAGE = `query($filter: EventFilter, $first: Int, $after: String, $order: EventOrder) {
  events(filter: $filter, first: $first, after: $after, order: $order) {
    edges { cursor node { id type userId } }
    pageInfo { endCursor hasNextPage }
  }
}`;

describe('event log queries', () => {
  let server: TestServer;
  let admin: string;
  const ids: string[] = [];
  beforeAll(async () => {
    server = await startServer();
    admin = server.token('adm_q', 'admin');
    for (let i = 0; i < 7; i++) ids.push((await publish(server, { type: 'order_created', userId: 'cus_q1', source: i % 2 ? 'orders' : 'checkout' })).id);
    await publish(server, { type: 'order_created', userId: 'cus_q2' });
    await publish(server, { type: 'system_alert' });
    await publish(server, { type: 'order_ready', roles: ['customer'] });
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('pages through the log with cursors, newest first, without gaps or overlaps', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const { body }: { body: any } = await server.gql(PAGE, { filter: { userId: 'cus_q1' }, first: 3, after }, admin);
      const conn: any = body.data.events;
      seen.push(...conn.edges.map((e: any) => e.node.id));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('pages oldest first on request', async () => {
    const { body } = await server.gql(PAGE, { filter: { userId: 'cus_q1' }, first: 2, order: 'OLDEST_FIRST' }, admin);
    expect(body.data.events.edges.map((e: any) => e.node.id)).toEqual(ids.slice(0, 2));
  });

  it('filters by type, level, source and time range', async () => {
    const bySource = await server.gql(PAGE, { filter: { sources: ['orders'], userId: 'cus_q1' } }, admin);
    expect(bySource.body.data.events.edges).toHaveLength(3);
    const critical = await server.gql(PAGE, { filter: { levels: ['CRITICAL'] } }, admin);
    expect(critical.body.data.events.edges.map((e: any) => e.node.type)).toEqual(['SYSTEM_ALERT']);
    const future = await server.gql(PAGE, { filter: { from: new Date(Date.now() + 60_000).toISOString() } }, admin);
    expect(future.body.data.events.edges).toHaveLength(0);
    const badDate = await server.gql(PAGE, { filter: { from: 'yesterday' } }, admin);
    expect(badDate.body.errors![0].message).toMatch(/ISO-8601/);
  });

  it('shows a customer only what they could have received', async () => {
    const { body } = await server.gql(PAGE, { first: 50 }, server.token('cus_q2', 'customer'));
    const types = body.data.events.edges.map((e: any) => `${e.node.type}:${e.node.userId}`);
    expect(types).toEqual(['ORDER_READY:null', 'ORDER_CREATED:cus_q2']);
  });

  it('returns null for an event the viewer may not see, and the event to its addressee', async () => {
    const q = 'query($id: ID!) { event(id: $id) { id ... on OrderCreatedEvent { orderId } } }';
    const other = await server.gql(q, { id: ids[0] }, server.token('cus_q2', 'customer'));
    expect(other.body.data.event).toBeNull();
    const own = await server.gql(q, { id: ids[0] }, server.token('cus_q1', 'customer'));
    expect(own.body.data.event).toEqual({ id: ids[0], orderId: examplePayload('order_created')['orderId'] });
  });

  it('refuses a page size out of range with BAD_USER_INPUT', async () => {
    const { body } = await server.gql(PAGE, { first: 10_000 }, admin);
    expect(body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('tracks a delivery for its customer and partner, and refuses everybody else', async () => {
    const delivery = { deliveryId: 'dlv_t1', customerId: 'cus_t1', deliveryPartnerId: 'dp_t1' };
    await publish(server, { type: 'delivery_accepted', userId: 'cus_t1', data: examplePayload('delivery_accepted', delivery) });
    const sub = 'subscription($id: ID!) { deliveryTracking(deliveryId: $id) { type ... on LocationUpdatedEvent { latitude } } }';
    const customer = wsClient(server.wsUrl, server.token('cus_t1', 'customer'));
    const stranger = wsClient(server.wsUrl, server.token('cus_t2', 'customer'));
    try {
      const tracking = customer.subscribe(sub, { id: 'dlv_t1' });
      const refused = stranger.subscribe(sub, { id: 'dlv_t1' });
      await refused.ended;
      expect(refused.items[0].errors[0].extensions.code).toBe('FORBIDDEN');
      await new Promise((r) => setTimeout(r, 100));
      // The partner's location, addressed to the partner, reaches the customer tracking the delivery.
      await publish(server, { type: 'location_updated', userId: 'dp_t1', data: examplePayload('location_updated', { deliveryPartnerId: 'dp_t1', deliveryId: 'dlv_t1', latitude: 52.5 }) });
      await publish(server, { type: 'location_updated', userId: 'dp_t9', data: examplePayload('location_updated', { deliveryPartnerId: 'dp_t9', deliveryId: 'dlv_other' }) });
      await publish(server, { type: 'delivery_picked_up', userId: 'cus_t1', data: examplePayload('delivery_picked_up', delivery) });
      const items = await tracking.waitForCount(2);
      expect(items.map((i: any) => i.data.deliveryTracking.type)).toEqual(['LOCATION_UPDATED', 'DELIVERY_PICKED_UP']);
      expect(items[0].data.deliveryTracking.latitude).toBe(52.5);
    } finally {
      await customer.dispose();
      await stranger.dispose();
    }
  });
});

describe('durability', () => {
  it('keeps events across a server restart', async () => {
    const first = await startServer();
    const published = await publish(first, { type: 'payout_completed', userId: 'dp_r1' });
    await first.close();
    const second = await startServer({ dataDir: first.dataDir });
    try {
      const { body } = await second.gql('query($id: ID!) { event(id: $id) { id type cursor } }', { id: published.id }, second.token('dp_r1', 'delivery_partner'));
      expect(body.data.event).toEqual({ id: published.id, type: 'PAYOUT_COMPLETED', cursor: published.cursor });
      const next = await publish(second, { type: 'payout_completed', userId: 'dp_r1' });
      // Same log (same epoch), further on.
      expect(cursorParts(next.cursor).epoch).toBe(cursorParts(published.cursor).epoch);
      expect(cursorParts(next.cursor).seq).toBeGreaterThan(cursorParts(published.cursor).seq);
    } finally {
      await second.close({ removeData: true });
    }
  });
});
