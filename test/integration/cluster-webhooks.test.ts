/**
 * Webhooks with two Herald instances on one FerretDB database and one Redis: a supplier connected live to one
 * instance is online for the other one's WHEN_OFFLINE decisions (the presence board, src/bus/redis-presence.ts),
 * and the two dispatchers together deliver each matching event of a concurrent stream once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePayload } from '../../src/events/examples.js';
import { startHeraldProcess, type HeraldProcess } from '../utils/herald-process.js';
import { wsClient } from '../utils/clients.js';
import { publish, toInput } from '../utils/publish.js';
import { startReceiver, type Receiver } from '../utils/receiver.js';
import { startMongoForTests, type TestMongo } from '../utils/mongo.js';
import { startRedisForTests, type TestRedis } from '../utils/redis.js';
import { sleep, waitFor } from '../utils/deferred.js';

const mongo = await startMongoForTests();
const redis = await startRedisForTests();
const skip = 'skip' in mongo ? mongo.skip : 'skip' in redis ? redis.skip : undefined;
if (skip) console.warn(skip);

/** Instances reload endpoints every 5 s: an endpoint made on A is known to B after that. */
const DIRECTORY_RELOAD_MS = 5_500;
const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`;
const PUBLISH_MANY = `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`;

async function createEndpoint(server: HeraldProcess, supplier: string, input: Record<string, unknown>) {
  const { body } = await server.gql(CREATE, { input: { eventTypes: ['ORDER_CREATED'], ...input } }, server.token(supplier, 'supplier'));
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data.createWebhookEndpoint.endpoint.id as string;
}

const order = (supplier: string) => ({ type: 'order_created' as const, userId: supplier, data: examplePayload('order_created', { supplierId: supplier }) });

describe.skipIf(skip !== undefined)('webhooks across two instances', () => {
  let a: HeraldProcess;
  let b: HeraldProcess;
  let receiver: Receiver;
  const env = (id: string) => ({
    MONGODB_URL: (mongo as TestMongo).url,
    REDIS_URL: (redis as TestRedis).url,
    INSTANCE_ID: id,
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_RETRY_SCHEDULE: '0,200ms,300ms,300ms',
  });

  beforeAll(async () => {
    receiver = await startReceiver();
    a = await startHeraldProcess({ env: env('herald-wa') });
    b = await startHeraldProcess({ env: env('herald-wb') });
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), receiver?.close()]);
    if (!skip) {
      await (redis as TestRedis).stop();
      await (mongo as TestMongo).stop();
    }
  });

  it("sends no WHEN_OFFLINE webhook for events published on A while the supplier is live on B; sends them once it is not", { timeout: 40_000 }, async () => {
    const supplier = 'sup_cluster_presence';
    await createEndpoint(a, supplier, { url: receiver.url('/presence'), mode: 'WHEN_OFFLINE' });
    await sleep(DIRECTORY_RELOAD_MS);

    const live = wsClient(b.wsUrl, b.token(supplier, 'supplier'));
    await live.connected;
    const before = await b.routerSize();
    const stream = live.subscribe('subscription { events(types: [ORDER_CREATED]) { id } }');
    await waitFor(async () => (await b.routerSize()) > before, 5000, 'the live subscription on B');
    const whileLive = [];
    for (let i = 0; i < 5; i++) whileLive.push(await publish(a, order(supplier)));
    await stream.waitForCount(whileLive.length);
    // Longer than the enqueuers' wait for the other instance's report (clusterGraceMs, 3 s).
    await sleep(4_000);
    expect(receiver.received('/presence')).toEqual([]);

    await live.dispose();
    await waitFor(async () => (await b.routerSize()) === before, 5000, 'the subscription on B to end');
    const whileOffline = await publish(a, order(supplier));
    const [request] = await receiver.waitForCount(1, { path: '/presence', timeoutMs: 10_000 });
    expect(request!.headers['webhook-id']).toBe(whileOffline.id);
    await sleep(1_000);
    expect(receiver.received('/presence').map((r) => r.headers['webhook-id'])).toEqual([whileOffline.id]);
  });

  it('delivers each event published concurrently on both instances to its endpoint once', { timeout: 90_000 }, async () => {
    const supplier = 'sup_cluster_once';
    await createEndpoint(a, supplier, { url: receiver.url('/once') });
    await sleep(DIRECTORY_RELOAD_MS);
    const ids: string[] = [];
    // Two publishers, one per instance, 50 events each in batches of 5.
    await Promise.all(
      [a, b].map(async (server) => {
        for (let i = 0; i < 10; i++) {
          const { body } = await server.gql(PUBLISH_MANY, { inputs: Array.from({ length: 5 }, () => toInput(order(supplier))) }, server.token('svc-cluster', 'service'));
          if (body.errors) throw new Error(JSON.stringify(body.errors));
          ids.push(...body.data.publishEvents.map((e: { id: string }) => e.id));
        }
      }),
    );
    const started = Date.now();
    console.info(`two dispatchers: ${ids.length} published`);
    await waitFor(() => new Set(receiver.received('/once').map((r) => r.headers['webhook-id'])).size >= ids.length, 45_000, `${ids.length} webhooks (have ${new Set(receiver.received('/once').map((r) => r.headers['webhook-id'])).size})`);
    console.info(`two dispatchers: all delivered ${Date.now() - started} ms after the last publish`);
    await sleep(1_500);
    const received = receiver.received('/once').map((r) => r.headers['webhook-id']!);
    const distinct = new Set(received);
    expect([...distinct].sort()).toEqual([...ids].sort());
    const duplicates = received.length - distinct.size;
    console.info(`two dispatchers: ${ids.length} events, ${received.length} webhooks, ${duplicates} duplicates`);
    expect(duplicates).toBe(0);
  });
});
