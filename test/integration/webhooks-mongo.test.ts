/**
 * Webhooks end to end on the MongoDB stores (FerretDB here): delivery, retries, the delivery log, 410 Gone and a
 * restart that resumes pending deliveries.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePayload } from '../../src/events/examples.js';
import { startServer, type TestServer } from '../utils/server.js';
import { startReceiver, type Receiver } from '../utils/receiver.js';
import { publish } from '../utils/publish.js';
import { startMongoForTests } from '../utils/mongo.js';
import { waitFor } from '../utils/deferred.js';

const mongo = await startMongoForTests();
const skip = 'skip' in mongo ? mongo.skip : undefined;
if (skip) console.warn(skip);

const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`;
const LOG = `query($id: ID!) { webhookDeliveries(endpointId: $id) { edges { node { eventId status attempts { httpStatus errorKind } } } } }`;
const ENDPOINTS = `{ webhookEndpoints { id enabled disabledReason } }`;

describe.skipIf(skip !== undefined)('webhooks on MongoDB', () => {
  const url = (mongo as { url: string }).url;
  const env = {
    MONGODB_URL: url,
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_RETRY_SCHEDULE: '0,200ms,200ms',
  };
  let server: TestServer;
  let receiver: Receiver;

  beforeAll(async () => {
    server = await startServer({ env });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await server?.close({ removeData: true });
    if (!skip) await (mongo as { stop(): Promise<void> }).stop();
  });

  it('delivers a signed event after a 500, logging both attempts', async () => {
    receiver.on('/m', (_, n) => (n === 1 ? { status: 500 } : { status: 200 }));
    const token = server.token('sup_m1', 'supplier');
    const { body } = await server.gql(CREATE, { input: { url: receiver.url('/m'), eventTypes: ['ORDER_CREATED'] } }, token);
    const { secret, endpoint } = body.data.createWebhookEndpoint;
    const event = await publish(server, { type: 'order_created', userId: 'sup_m1', data: examplePayload('order_created', { supplierId: 'sup_m1' }) });

    const requests = await receiver.waitForCount(2, { path: '/m' });
    const last = requests[1]!;
    expect(new Webhook(secret).verify(last.body, last.headers as Record<string, string>)).toMatchObject({ data: { id: event.id } });
    await waitFor(async () => (await server.gql(LOG, { id: endpoint.id }, token)).body.data.webhookDeliveries.edges[0]?.node.status === 'SUCCEEDED', 5000, 'success');
    const log = await server.gql(LOG, { id: endpoint.id }, token);
    expect(log.body.data.webhookDeliveries.edges[0].node).toEqual({
      eventId: event.id,
      status: 'SUCCEEDED',
      attempts: [
        { httpStatus: 500, errorKind: 'HTTP_STATUS' },
        { httpStatus: 200, errorKind: null },
      ],
    });
  });

  it('disables an endpoint that answers 410 Gone', async () => {
    receiver.on('/m-gone', { status: 410 });
    const token = server.token('sup_m2', 'supplier');
    const { body } = await server.gql(CREATE, { input: { url: receiver.url('/m-gone'), eventTypes: ['ORDER_CREATED'] } }, token);
    const id = body.data.createWebhookEndpoint.endpoint.id;
    await publish(server, { type: 'order_created', userId: 'sup_m2' });
    await waitFor(async () => (await server.gql(ENDPOINTS, {}, token)).body.data.webhookEndpoints[0]?.enabled === false, 5000, 'disabled');
    expect((await server.gql(ENDPOINTS, {}, token)).body.data.webhookEndpoints).toEqual([{ id, enabled: false, disabledReason: 'GONE' }]);
  });

  it('resumes pending deliveries after a restart', async () => {
    let up = false;
    const succeeded: string[] = [];
    receiver.on('/m-restart', (request) => {
      if (!up) return { status: 503 };
      succeeded.push(request.headers['webhook-id']!);
      return { status: 200 };
    });
    const token = server.token('sup_m3', 'supplier');
    await server.gql(CREATE, { input: { url: receiver.url('/m-restart'), eventTypes: ['ORDER_CREATED'] } }, token);
    await server.close();
    // While Herald is down, nothing is lost: the event is published after the restart...
    server = await startServer({ env: { ...env, WEBHOOK_RETRY_SCHEDULE: '0,300ms,300ms,300ms,300ms,300ms' } });
    const event = await publish(server, { type: 'order_created', userId: 'sup_m3' });
    await receiver.waitForCount(1, { path: '/m-restart' });
    // ...and one that is failing when Herald stops is retried by the next process.
    await server.close();
    up = true;
    server = await startServer({ env });
    await waitFor(() => succeeded.length > 0, 10_000, 'redelivery');
    expect(succeeded).toEqual([event.id]);
  });
});
