import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../utils/server.js';
import { wsClient, type WsClientHandle } from '../utils/clients.js';
import { EVENT_FIELDS, publish } from '../utils/publish.js';
import { examplePayload } from '../../src/events/examples.js';
import { sleep } from '../utils/deferred.js';

const SUB = `subscription($types: [EventType!], $after: String) { events(types: $types, after: $after) { ${EVENT_FIELDS} } }`;

describe('live subscriptions over graphql-ws', () => {
  let server: TestServer;
  const clients: WsClientHandle[] = [];
  const connect = async (sub: string, role: Parameters<TestServer['token']>[1]) => {
    const c = wsClient(server.wsUrl, server.token(sub, role));
    clients.push(c);
    await c.connected;
    return c;
  };

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.close({ removeData: true });
  });

  it('delivers a customer their own order events and not another customer\'s', async () => {
    const alice = await connect('cus_alice', 'customer');
    const bob = await connect('cus_bob', 'customer');
    const aliceEvents = alice.subscribe(SUB);
    const bobEvents = bob.subscribe(SUB);
    await sleep(100);

    const published = await publish(server, { type: 'order_created', userId: 'cus_alice', data: examplePayload('order_created', { customerId: 'cus_alice' }) });
    const [first] = await aliceEvents.waitForCount(1);
    expect(first.data.events).toMatchObject({ __typename: 'OrderCreatedEvent', id: published.id, type: 'ORDER_CREATED', userId: 'cus_alice', customerId: 'cus_alice', cursor: published.cursor });
    await publish(server, { type: 'order_created', userId: 'cus_bob' });
    await bobEvents.waitForCount(1);
    await sleep(100);
    expect(aliceEvents.items).toHaveLength(1);
    expect(bobEvents.items).toHaveLength(1);
    expect(bobEvents.items[0].data.events.userId).toBe('cus_bob');
  });

  it('delivers every event to an admin', async () => {
    const admin = await connect('adm_1', 'admin');
    const all = admin.subscribe(SUB);
    await sleep(100);
    await publish(server, { type: 'order_created', userId: 'cus_carol' });
    await publish(server, { type: 'system_alert' });
    await publish(server, { type: 'earning_recorded', userId: 'dp_1' });
    const items = await all.waitForCount(3);
    expect(items.map((i) => i.data.events.type)).toEqual(['ORDER_CREATED', 'SYSTEM_ALERT', 'EARNING_RECORDED']);
  });

  it('delivers earnings to the delivery partner, including by role broadcast', async () => {
    const partner = await connect('dp_7', 'delivery_partner');
    const earnings = partner.subscribe(SUB, { types: ['EARNING_RECORDED', 'BONUS_EARNED'] });
    await sleep(100);
    await publish(server, { type: 'earning_recorded', userId: 'dp_7' });
    await publish(server, { type: 'bonus_earned', roles: ['delivery_partner'] });
    await publish(server, { type: 'earning_recorded', userId: 'dp_other' });
    await publish(server, { type: 'order_created', userId: 'dp_7' }); // not a type the partner asked for
    const items = await earnings.waitForCount(2);
    await sleep(100);
    expect(items.map((i) => i.data.events.type)).toEqual(['EARNING_RECORDED', 'BONUS_EARNED']);
    expect(items[0].data.events.breakdown.tip).toBe(2);
  });

  it('refuses a customer subscribing to SYSTEM_ALERT with FORBIDDEN', async () => {
    const customer = await connect('cus_dave', 'customer');
    const alerts = customer.subscribe(SUB, { types: ['SYSTEM_ALERT'] });
    await alerts.ended; // the subscription completes at once, after one result carrying the error
    expect(alerts.items).toHaveLength(1);
    expect(alerts.items[0].data ?? null).toBeNull();
    expect(alerts.items[0].errors[0].extensions.code).toBe('FORBIDDEN');
    expect(alerts.items[0].errors[0].message).toMatch(/system_alert/);
    expect(alerts.items[0].errors[0].extensions.http).toBeUndefined();
  });

  it('never shows a customer a system alert even when broadcast events flow', async () => {
    const customer = await connect('cus_erin', 'customer');
    const everything = customer.subscribe(SUB);
    await sleep(100);
    await publish(server, { type: 'system_alert' });
    await publish(server, { type: 'order_created', roles: ['customer'] });
    await everything.waitForCount(1);
    await sleep(150);
    expect(everything.items.map((i) => i.data.events.type)).toEqual(['ORDER_CREATED']);
  });

  it('delivers to every connection of one user', async () => {
    const phone = await connect('cus_frank', 'customer');
    const laptop = await connect('cus_frank', 'customer');
    const a = phone.subscribe(SUB);
    const b = laptop.subscribe(SUB);
    await sleep(100);
    const published = await publish(server, { type: 'payment_failed', userId: 'cus_frank' });
    const [[x], [y]] = await Promise.all([a.waitForCount(1), b.waitForCount(1)]);
    expect(x.data.events.id).toBe(published.id);
    expect(y.data.events.id).toBe(published.id);
  });

  it('replays logged events after the given cursor, then goes live, with none twice', async () => {
    const first = await publish(server, { type: 'order_created', userId: 'cus_gina' });
    const second = await publish(server, { type: 'order_confirmed', userId: 'cus_gina' });
    const third = await publish(server, { type: 'order_ready', userId: 'cus_gina' });
    const gina = await connect('cus_gina', 'customer');
    const resumed = gina.subscribe(SUB, { after: first.cursor });
    await resumed.waitForCount(2);
    const fourth = await publish(server, { type: 'order_cancelled', userId: 'cus_gina' });
    const items = await resumed.waitForCount(3);
    await sleep(100);
    expect(items.map((i) => i.data.events.id)).toEqual([second.id, third.id, fourth.id]);
  });

  it('rejects a cursor that is not one with BAD_USER_INPUT', async () => {
    const c = await connect('cus_hal', 'customer');
    const sub = c.subscribe(SUB, { after: 'not-a-cursor' });
    await sub.ended;
    expect(sub.items[0].errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('counts WebSocket connections in connectionStats for admins', async () => {
    const admin = server.token('adm_stats', 'admin');
    const { body } = await server.gql('{ connectionStats { total distinctUsers byTransport { transport count } byRole { role count } eventsLastMinute } }', {}, admin);
    const ws = body.data.connectionStats.byTransport.find((t: any) => t.transport === 'WEBSOCKET');
    expect(ws.count).toBe(clients.length);
    expect(body.data.connectionStats.byRole.find((r: any) => r.role === 'CUSTOMER').count).toBeGreaterThanOrEqual(5);
    expect(body.data.connectionStats.eventsLastMinute).toBeGreaterThanOrEqual(10);
  });
});
