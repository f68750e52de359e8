import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { examplePayload } from '../../src/events/examples.js';
import { startServer, type TestServer } from '../utils/server.js';
import { startReceiver, type Receiver, type ReceivedRequest } from '../utils/receiver.js';
import { publish } from '../utils/publish.js';
import { wsClient } from '../utils/clients.js';
import { sleep, waitFor } from '../utils/deferred.js';

/** Loopback receivers need both overrides; the schedule is shortened so retries take milliseconds. */
const WEBHOOK_ENV = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_RETRY_SCHEDULE: '0,200ms,300ms,300ms',
};

const ENDPOINT_FIELDS = 'id ownerId url description eventTypes minLevel mode enabled disabledReason disabledAt failingSince createdAt';
const CREATE = `mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { ${ENDPOINT_FIELDS} } }
}`;
const DELIVERIES = `query($endpointId: ID!, $status: WebhookDeliveryStatus, $first: Int, $after: String) {
  webhookDeliveries(endpointId: $endpointId, status: $status, first: $first, after: $after) {
    edges { cursor node { id eventId eventType status lastError nextAttemptAt
      attempts { number at httpStatus latencyMs errorKind error responseBody } } }
    pageInfo { endCursor hasNextPage }
  }
}`;
const ENDPOINTS = `query($ownerId: ID) { webhookEndpoints(ownerId: $ownerId) { ${ENDPOINT_FIELDS} } }`;

let supplierCount = 0;
/** A fresh supplier id per test, so tests sharing a server do not see each other's events. */
const newSupplier = () => `sup_wh_${++supplierCount}`;

async function createEndpoint(server: TestServer, token: string, input: Record<string, unknown>) {
  const { body } = await server.gql(CREATE, { input: { eventTypes: ['ORDER_CREATED'], ...input } }, token);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data.createWebhookEndpoint as { secret: string; endpoint: { id: string; enabled: boolean } & Record<string, any> };
}

/** Publishes an order for `supplierId`, addressed to that supplier. */
const publishOrder = (server: TestServer, supplierId: string, extra: Record<string, unknown> = {}) =>
  publish(server, { type: 'order_created', userId: supplierId, data: examplePayload('order_created', { supplierId }), ...extra });

const verify = (secret: string, request: ReceivedRequest) =>
  new Webhook(secret).verify(request.body, {
    'webhook-id': request.headers['webhook-id']!,
    'webhook-timestamp': request.headers['webhook-timestamp']!,
    'webhook-signature': request.headers['webhook-signature']!,
  }) as any;

async function deliveriesOf(server: TestServer, token: string, endpointId: string, variables: Record<string, unknown> = {}) {
  const { body } = await server.gql(DELIVERIES, { endpointId, ...variables }, token);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data.webhookDeliveries as { edges: Array<{ cursor: string; node: any }>; pageInfo: { endCursor: string | null; hasNextPage: boolean } };
}

async function endpointOf(server: TestServer, token: string, id: string) {
  const { body } = await server.gql(ENDPOINTS, {}, token);
  return (body.data.webhookEndpoints as any[]).find((e) => e.id === id);
}

describe('webhooks against a real receiver', () => {
  let server: TestServer;
  let receiver: Receiver;

  beforeAll(async () => {
    server = await startServer({ env: WEBHOOK_ENV });
  });
  afterEach(async () => {
    await receiver?.close();
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('delivers matching events signed so that the standardwebhooks verifier accepts them', async () => {
    receiver = await startReceiver();
    const supplier = newSupplier();
    const token = server.token(supplier, 'supplier');
    const { secret, endpoint } = await createEndpoint(server, token, { url: receiver.url('/hook'), eventTypes: ['ORDER_CREATED', 'ORDER_CANCELLED'] });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(endpoint).toMatchObject({ ownerId: supplier, enabled: true, mode: 'ALWAYS', minLevel: 'HIGH', eventTypes: ['ORDER_CREATED', 'ORDER_CANCELLED'] });

    // Not for this endpoint: another supplier's order, a type it did not choose, a level below HIGH.
    await publishOrder(server, newSupplier());
    await publish(server, { type: 'order_confirmed', userId: supplier, level: 'HIGH' });
    await publishOrder(server, supplier, { level: 'MEDIUM' });
    const event = await publishOrder(server, supplier);

    const [request] = await receiver.waitForCount(1);
    const payload = verify(secret, request!);
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['webhook-id']).toBe(event.id);
    expect(payload).toMatchObject({
      type: 'order_created',
      timestamp: event.timestamp,
      data: { id: event.id, type: 'order_created', level: 'HIGH', userId: supplier, source: 'test-service', cursor: event.cursor, supplierId: supplier, orderId: 'ord_7Kq2VxR9' },
    });
    await sleep(300);
    expect(receiver.received()).toHaveLength(1);
  });

  it('delivers role broadcasts to every supplier endpoint subscribed to the type', async () => {
    receiver = await startReceiver();
    const supplier = newSupplier();
    await createEndpoint(server, server.token(supplier, 'supplier'), { url: receiver.url('/broadcast'), eventTypes: ['DISPUTE_CREATED'] });
    const event = await publish(server, { type: 'dispute_created', roles: ['supplier'] });
    const [request] = await receiver.waitForCount(1);
    expect(request!.headers['webhook-id']).toBe(event.id);
  });

  it('retries after 500s, then succeeds, logging every attempt (and counting them in /metrics)', async () => {
    const attemptsIn = async (outcome: string) =>
      Number(new RegExp(`^herald_webhook_attempts_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? 0);
    const before = { retrying: await attemptsIn('retrying'), succeeded: await attemptsIn('succeeded') };
    receiver = await startReceiver();
    receiver.on('/flaky', (_, n) => (n <= 2 ? { status: 500, body: `boom ${n}` } : { status: 204, body: '' }));
    const supplier = newSupplier();
    const token = server.token(supplier, 'supplier');
    const { endpoint } = await createEndpoint(server, token, { url: receiver.url('/flaky') });
    const event = await publishOrder(server, supplier);

    const requests = await receiver.waitForCount(3);
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([event.id]));
    await waitFor(async () => (await deliveriesOf(server, token, endpoint.id)).edges[0]?.node.status === 'SUCCEEDED', 5000, 'delivery to succeed');
    const { edges } = await deliveriesOf(server, token, endpoint.id);
    expect(edges).toHaveLength(1);
    expect(edges[0]!.node).toMatchObject({ eventId: event.id, eventType: 'ORDER_CREATED', status: 'SUCCEEDED', lastError: null, nextAttemptAt: null });
    expect(edges[0]!.node.attempts).toMatchObject([
      { number: 1, httpStatus: 500, errorKind: 'HTTP_STATUS', error: 'HTTP 500', responseBody: 'boom 1' },
      { number: 2, httpStatus: 500, errorKind: 'HTTP_STATUS', responseBody: 'boom 2' },
      { number: 3, httpStatus: 204, errorKind: null, error: null, responseBody: '' },
    ]);
    for (const attempt of edges[0]!.node.attempts) expect(attempt.latencyMs).toBeGreaterThanOrEqual(0);
    // The schedule's 200 ms (±20 %) separates the first two attempts.
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(150);
    expect(await attemptsIn('retrying')).toBe(before.retrying + 2);
    expect(await attemptsIn('succeeded')).toBe(before.succeeded + 1);
  });

  it('waits at least as long as Retry-After before retrying a 429', async () => {
    receiver = await startReceiver();
    receiver.on('/busy', (_, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' } : { status: 200 }));
    const supplier = newSupplier();
    const token = server.token(supplier, 'supplier');
    const { endpoint } = await createEndpoint(server, token, { url: receiver.url('/busy') });
    await publishOrder(server, supplier);

    const [first, second] = await receiver.waitForCount(2, { timeoutMs: 5000 });
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
    await waitFor(async () => (await deliveriesOf(server, token, endpoint.id)).edges[0]?.node.status === 'SUCCEEDED', 3000, 'delivery to succeed');
  });

  it('disables the endpoint on 410 Gone and tells its owner with a webhook_endpoint_disabled event', async () => {
    receiver = await startReceiver();
    receiver.on('/gone', { status: 410, body: 'gone' });
    const supplier = newSupplier();
    const token = server.token(supplier, 'supplier');
    const { endpoint } = await createEndpoint(server, token, { url: receiver.url('/gone') });
    await publishOrder(server, supplier);

    await waitFor(async () => (await endpointOf(server, token, endpoint.id)).enabled === false, 5000, 'endpoint to be disabled');
    expect(await endpointOf(server, token, endpoint.id)).toMatchObject({ enabled: false, disabledReason: 'GONE' });
    const { edges } = await deliveriesOf(server, token, endpoint.id);
    expect(edges[0]!.node).toMatchObject({ status: 'FAILED', attempts: [{ httpStatus: 410 }] });

    const { body } = await server.gql(
      `{ events(filter: { types: [WEBHOOK_ENDPOINT_DISABLED] }) { edges { node { userId source level
         ... on WebhookEndpointDisabledEvent { endpointId url reason disabledAt } } } } }`,
      {},
      token,
    );
    expect(body.data.events.edges.map((e: any) => e.node)).toEqual([
      { userId: supplier, source: 'herald-webhooks', level: 'HIGH', endpointId: endpoint.id, url: receiver.url('/gone'), reason: 'GONE', disabledAt: expect.any(String) },
    ]);

    await publishOrder(server, supplier);
    await sleep(400);
    expect(receiver.received()).toHaveLength(1);
  });

  it('signs with the old and the new secret after a rotation', async () => {
    receiver = await startReceiver();
    const supplier = newSupplier();
    const token = server.token(supplier, 'supplier');
    const { secret: oldSecret, endpoint } = await createEndpoint(server, token, { url: receiver.url('/rotate') });
    const { body } = await server.gql(`mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { id } } }`, { id: endpoint.id }, token);
    const newSecret = body.data.rotateWebhookSecret.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);

    await publishOrder(server, supplier);
    const [request] = await receiver.waitForCount(1);
    expect(request!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verify(oldSecret, request!).type).toBe('order_created');
    expect(verify(newSecret, request!).type).toBe('order_created');
    expect(() => verify(`whsec_${Buffer.from('not the secret at all!!!').toString('base64')}`, request!)).toThrow();
  });

  it('skips WHEN_OFFLINE deliveries while the supplier is connected live, and delivers once it is not', async () => {
    receiver = await startReceiver();
    const supplier = newSupplier();
    const token = server.token(supplier, 'supplier');
    await createEndpoint(server, token, { url: receiver.url('/offline'), mode: 'WHEN_OFFLINE' });

    const live = wsClient(server.wsUrl, token);
    await live.connected;
    const stream = live.subscribe(`subscription { events { id } }`);
    await waitFor(() => server.herald.hub.router.size > 0, 2000, 'live subscription');
    const whileLive = await publishOrder(server, supplier);
    await stream.waitForCount(1);
    expect(stream.items[0].data.events.id).toBe(whileLive.id);

    await live.dispose();
    await waitFor(() => server.herald.hub.router.size === 0, 2000, 'subscription to end');
    const whileOffline = await publishOrder(server, supplier);
    const [request] = await receiver.waitForCount(1);
    expect(request!.headers['webhook-id']).toBe(whileOffline.id);
    await sleep(300);
    expect(receiver.received().map((r) => r.headers['webhook-id'])).toEqual([whileOffline.id]);
  });

  it('refuses endpoint management to customers with FORBIDDEN', async () => {
    receiver = await startReceiver();
    const { body } = await server.gql(CREATE, { input: { url: receiver.url('/x'), eventTypes: ['ORDER_CREATED'] } }, server.token('cus_1', 'customer'));
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const list = await server.gql(ENDPOINTS, {}, server.token('dp_1', 'delivery_partner'));
    expect(list.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it("hides other suppliers' endpoints and lets an admin manage any", async () => {
    receiver = await startReceiver();
    const owner = newSupplier();
    const other = server.token(newSupplier(), 'supplier');
    const admin = server.token('adm_wh', 'admin');
    const { endpoint } = await createEndpoint(server, server.token(owner, 'supplier'), { url: receiver.url('/mine') });

    expect((await server.gql(ENDPOINTS, {}, other)).body.data.webhookEndpoints.map((e: any) => e.id)).not.toContain(endpoint.id);
    const stolen = await server.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: endpoint.id }, other);
    expect(stolen.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const peeked = await server.gql(DELIVERIES, { endpointId: endpoint.id }, other);
    expect(peeked.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const tested = await server.gql(`mutation($id: ID!) { sendTestWebhook(endpointId: $id) { success } }`, { id: endpoint.id }, other);
    expect(tested.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await server.gql(ENDPOINTS, { ownerId: owner }, admin)).body.data.webhookEndpoints.map((e: any) => e.id)).toEqual([endpoint.id]);

    const created = await createEndpoint(server, admin, { url: receiver.url('/for-owner'), ownerId: owner, eventTypes: ['INVENTORY_ALERT'], minLevel: 'LOW' });
    expect(created.endpoint).toMatchObject({ ownerId: owner, eventTypes: ['INVENTORY_ALERT'], minLevel: 'LOW' });
    const refused = await server.gql(CREATE, { input: { url: receiver.url('/y'), eventTypes: ['ORDER_CREATED'], ownerId: owner } }, other);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses event types the supplier may never receive', async () => {
    receiver = await startReceiver();
    const { body } = await server.gql(
      CREATE,
      { input: { url: receiver.url('/x'), eventTypes: ['SYSTEM_ALERT'] } },
      server.token(newSupplier(), 'supplier'),
    );
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('updates, disables, enables and deletes an endpoint', async () => {
    receiver = await startReceiver();
    const supplier = newSupplier();
    const token = server.token(supplier, 'supplier');
    const { endpoint } = await createEndpoint(server, token, { url: receiver.url('/v1'), description: 'first' });

    const updated = await server.gql(
      `mutation($id: ID!, $input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(id: $id, input: $input) { url description eventTypes minLevel } }`,
      { id: endpoint.id, input: { url: receiver.url('/v2'), eventTypes: ['INVENTORY_ALERT'], minLevel: 'MEDIUM' } },
      token,
    );
    expect(updated.body.data.updateWebhookEndpoint).toEqual({ url: receiver.url('/v2'), description: 'first', eventTypes: ['INVENTORY_ALERT'], minLevel: 'MEDIUM' });

    const disabled = await server.gql(`mutation($id: ID!) { disableWebhookEndpoint(id: $id) { enabled disabledReason } }`, { id: endpoint.id }, token);
    expect(disabled.body.data.disableWebhookEndpoint).toEqual({ enabled: false, disabledReason: 'MANUAL' });
    await publish(server, { type: 'inventory_alert', userId: supplier });
    await sleep(300);
    expect(receiver.received()).toHaveLength(0);

    const enabled = await server.gql(`mutation($id: ID!) { enableWebhookEndpoint(id: $id) { enabled disabledReason } }`, { id: endpoint.id }, token);
    expect(enabled.body.data.enableWebhookEndpoint).toEqual({ enabled: true, disabledReason: null });
    const event = await publish(server, { type: 'inventory_alert', userId: supplier });
    const [request] = await receiver.waitForCount(1, { path: '/v2' });
    expect(request!.headers['webhook-id']).toBe(event.id);

    const deleted = await server.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: endpoint.id }, token);
    expect(deleted.body.data.deleteWebhookEndpoint).toBe(true);
    expect(await endpointOf(server, token, endpoint.id)).toBeUndefined();
    const gone = await server.gql(DELIVERIES, { endpointId: endpoint.id }, token);
    expect(gone.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('sends a signed test webhook and reports the answer', async () => {
    receiver = await startReceiver();
    receiver.on('/test', { status: 202, body: 'x'.repeat(5000) });
    const token = server.token(newSupplier(), 'supplier');
    const { secret, endpoint } = await createEndpoint(server, token, { url: receiver.url('/test') });
    const { body } = await server.gql(
      `mutation($id: ID!) { sendTestWebhook(endpointId: $id) { success httpStatus latencyMs errorKind responseBody } }`,
      { id: endpoint.id },
      token,
    );
    expect(body.data.sendTestWebhook).toMatchObject({ success: true, httpStatus: 202, errorKind: null });
    expect(body.data.sendTestWebhook.responseBody).toHaveLength(4096);
    const [request] = receiver.received('/test');
    expect(verify(secret, request!)).toMatchObject({ type: 'webhook_test', data: { endpointId: endpoint.id } });
  });

  it('replays an exhausted delivery and everything since a time', async () => {
    receiver = await startReceiver();
    let up = false;
    receiver.on('/outage', () => (up ? { status: 200 } : { status: 503, body: 'down' }));
    const supplier = newSupplier();
    const token = server.token(supplier, 'supplier');
    const { endpoint } = await createEndpoint(server, token, { url: receiver.url('/outage') });
    const since = new Date().toISOString();
    const first = await publishOrder(server, supplier);

    await waitFor(async () => (await deliveriesOf(server, token, endpoint.id)).edges[0]?.node.status === 'FAILED', 5000, 'delivery to fail');
    const failed = (await deliveriesOf(server, token, endpoint.id, { status: 'FAILED' })).edges[0]!.node;
    expect(failed.attempts).toHaveLength(4);
    expect(failed.lastError).toMatch(/gave up after 4 attempts/);

    up = true;
    const replayed = await server.gql(`mutation($id: ID!) { replayWebhookDelivery(id: $id) { id status } }`, { id: failed.id }, token);
    expect(replayed.body.data.replayWebhookDelivery).toEqual({ id: failed.id, status: 'PENDING' });
    await waitFor(async () => (await deliveriesOf(server, token, endpoint.id)).edges[0]?.node.status === 'SUCCEEDED', 3000, 'replayed delivery');
    expect((await deliveriesOf(server, token, endpoint.id)).edges[0]!.node.attempts).toHaveLength(5);

    // An outage while disabled: nothing queued; the replay since `since` queues every matching event again.
    await server.gql(`mutation($id: ID!) { disableWebhookEndpoint(id: $id) { id } }`, { id: endpoint.id }, token);
    const second = await publishOrder(server, supplier);
    await server.gql(`mutation($id: ID!) { enableWebhookEndpoint(id: $id) { id } }`, { id: endpoint.id }, token);
    const before = receiver.received().length;
    const result = await server.gql(
      `mutation($id: ID!, $since: DateTime!) { replayWebhookEndpoint(endpointId: $id, since: $since) { queued truncated } }`,
      { id: endpoint.id, since },
      token,
    );
    expect(result.body.data.replayWebhookEndpoint).toEqual({ queued: 2, truncated: false });
    const requests = await receiver.waitForCount(before + 2);
    expect(requests.slice(before).map((r) => r.headers['webhook-id']).sort()).toEqual([first.id, second.id].sort());
  });

  it('pages through the delivery log newest first', async () => {
    receiver = await startReceiver();
    const supplier = newSupplier();
    const token = server.token(supplier, 'supplier');
    const { endpoint } = await createEndpoint(server, token, { url: receiver.url('/pages') });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await publishOrder(server, supplier)).id);
    await receiver.waitForCount(5);
    await waitFor(async () => (await deliveriesOf(server, token, endpoint.id, { status: 'SUCCEEDED', first: 10 })).edges.length === 5, 3000, 'five successes');

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const result = await deliveriesOf(server, token, endpoint.id, { first: 2, after });
      seen.push(...result.edges.map((e) => e.node.eventId));
      if (!result.pageInfo.hasNextPage) break;
      after = result.pageInfo.endCursor;
    }
    expect(seen).toEqual([...ids].reverse());
  });
});

describe('webhook endpoints failing for WEBHOOK_DISABLE_AFTER', () => {
  let server: TestServer;
  let receiver: Receiver;
  beforeAll(async () => {
    server = await startServer({ env: { ...WEBHOOK_ENV, WEBHOOK_RETRY_SCHEDULE: '0,200ms,200ms,200ms,200ms,200ms,200ms,200ms', WEBHOOK_DISABLE_AFTER: '700ms' } });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await server.close({ removeData: true });
  });

  it('are disabled, and their owner is told since when they failed', async () => {
    receiver.on('/down', { status: 500 });
    const supplier = 'sup_failing';
    const token = server.token(supplier, 'supplier');
    const { endpoint } = await createEndpoint(server, token, { url: receiver.url('/down') });
    await publishOrder(server, supplier);

    await waitFor(async () => (await endpointOf(server, token, endpoint.id)).enabled === false, 5000, 'endpoint to be disabled');
    const disabled = await endpointOf(server, token, endpoint.id);
    expect(disabled).toMatchObject({ disabledReason: 'FAILING' });
    expect(Date.parse(disabled.disabledAt) - Date.parse(disabled.failingSince)).toBeGreaterThanOrEqual(700);
    const { body } = await server.gql(
      `{ events(filter: { types: [WEBHOOK_ENDPOINT_DISABLED] }) { edges { node { ... on WebhookEndpointDisabledEvent { endpointId reason failingSince } } } } }`,
      {},
      token,
    );
    expect(body.data.events.edges).toEqual([{ node: { endpointId: endpoint.id, reason: 'FAILING', failingSince: disabled.failingSince } }]);
    const attempts = receiver.received('/down').length;
    await sleep(500);
    expect(receiver.received('/down')).toHaveLength(attempts);
  });
});

describe('webhook URLs without the development overrides', () => {
  let server: TestServer;
  let receiver: Receiver;
  beforeAll(async () => {
    server = await startServer();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await server.close({ removeData: true });
  });

  it('refuses a loopback receiver with UNSAFE_URL, and it never gets a request', async () => {
    const token = server.token('sup_safe', 'supplier');
    const port = new URL(receiver.origin).port;
    for (const url of [receiver.url('/hook'), `https://127.0.0.1:${port}/hook`, `https://localhost:${port}/hook`, `https://[::1]:${port}/hook`]) {
      const { body } = await server.gql(CREATE, { input: { url, eventTypes: ['ORDER_CREATED'] } }, token);
      expect(body.errors?.[0]?.extensions?.code, url).toBe('UNSAFE_URL');
    }
    const { body } = await server.gql(CREATE, { input: { url: `https://127.0.0.1:${port}/hook`, eventTypes: ['ORDER_CREATED'] } }, token);
    expect(body.errors?.[0]?.message).toMatch(/loopback/);
    await publishOrder(server, 'sup_safe');
    await sleep(300);
    expect(receiver.received()).toEqual([]);
  });
});
