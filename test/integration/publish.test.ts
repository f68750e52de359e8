import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../utils/server.js';
import { publish, toInput } from '../utils/publish.js';
import { cursorParts } from '../utils/cursors.js';
import { examplePayload } from '../../src/events/examples.js';

const PUBLISH = 'mutation($input: PublishEventInput!) { publishEvent(input: $input) { id type level cursor } }';

describe('publishing', () => {
  let server: TestServer;
  let service: string;
  beforeAll(async () => {
    server = await startServer();
    service = server.token('orders-service', 'service');
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('refuses a customer publishing with 403 FORBIDDEN', async () => {
    const { status, body } = await server.gql(PUBLISH, { input: toInput({ type: 'order_created', userId: 'c1' }) }, server.token('c1', 'customer'));
    expect(status).toBe(403);
    expect(body.errors![0].extensions.code).toBe('FORBIDDEN');
    expect(body.errors![0].message).toMatch(/service and admin/);
  });

  it('gives BAD_USER_INPUT naming the field for a missing payload field', async () => {
    const data = examplePayload('order_created');
    delete data['orderId'];
    const { status, body } = await server.gql(PUBLISH, { input: toInput({ type: 'order_created', data }) }, service);
    expect(status).toBe(400);
    expect(body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.orderId' });
  });

  it('gives BAD_USER_INPUT naming the field for a wrong type deep in the payload', async () => {
    const data = examplePayload('order_created');
    (data['items'] as any[])[0].quantity = 'two';
    const { body } = await server.gql(PUBLISH, { input: toInput({ type: 'order_created', data }) }, service);
    expect(body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.items[0].quantity' });
    expect(body.errors![0].message).toMatch(/integer/);
  });

  it('refuses unknown payload fields and bad enum values', async () => {
    const typo = await server.gql(PUBLISH, { input: toInput({ type: 'payment_failed', data: { ...examplePayload('payment_failed'), amuont: 3 } }) }, service);
    expect(typo.body.errors![0].extensions.field).toBe('data.amuont');
    const badEnum = await server.gql(PUBLISH, { input: toInput({ type: 'payment_failed', data: { ...examplePayload('payment_failed'), method: 'GOLD_BARS' } }) }, service);
    expect(badEnum.body.errors![0].extensions.field).toBe('data.method');
  });

  it('refuses a role broadcast the catalogue does not allow', async () => {
    const { body } = await server.gql(PUBLISH, { input: toInput({ type: 'system_alert', roles: ['customer'] }) }, service);
    expect(body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'roles' });
  });

  it('applies the catalogue\'s default level and accepts an explicit one', async () => {
    expect((await publish(server, { type: 'payment_failed', userId: 'c1' })).level).toBe('CRITICAL');
    expect((await publish(server, { type: 'payment_failed', userId: 'c1', level: 'LOW' })).level).toBe('LOW');
  });

  it('yields one event when the same idempotency key is published twice', async () => {
    const a = await publish(server, { type: 'order_created', userId: 'c2', idempotencyKey: 'orders:ord_1:created' });
    const b = await publish(server, { type: 'order_created', userId: 'c2', idempotencyKey: 'orders:ord_1:created' });
    expect(b.id).toBe(a.id);
    const { body } = await server.gql('{ events(filter: { userId: "c2" }) { edges { node { id } } } }', {}, server.token('adm', 'admin'));
    expect(body.data.events.edges).toHaveLength(1);
  });

  it('publishes a batch with publishEvents, all or nothing on validation', async () => {
    const ok = await server.gql(
      'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id cursor } }',
      { inputs: [toInput({ type: 'order_created', userId: 'c3' }), toInput({ type: 'order_confirmed', userId: 'c3' })] },
      service,
    );
    expect(ok.body.data.publishEvents).toHaveLength(2);
    expect(cursorParts(ok.body.data.publishEvents[1].cursor).seq).toBeGreaterThan(cursorParts(ok.body.data.publishEvents[0].cursor).seq);
    const bad = await server.gql(
      'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }',
      { inputs: [toInput({ type: 'order_created', userId: 'c4' }), toInput({ type: 'order_confirmed', userId: 'c4', data: {} })] },
      service,
    );
    expect(bad.body.errors![0].extensions.field).toBe('inputs[1].data.orderId');
    const { body } = await server.gql('{ events(filter: { userId: "c4" }) { edges { node { id } } } }', {}, server.token('adm', 'admin'));
    expect(body.data.events.edges).toHaveLength(0);
  });

  it('lets code embedding the hub publish through the typed in-process API', async () => {
    const event = await server.herald.hub.publish({ type: 'inventory_alert', userId: 'sup_1', source: 'inventory', data: examplePayload('inventory_alert') });
    expect(event.seq).toBeGreaterThan(0);
    expect(event.level).toBe('HIGH');
  });
});
