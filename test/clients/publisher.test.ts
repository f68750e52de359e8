/**
 * The typed publisher against a real Herald: what the hub answers, typed errors with the hub's code and field,
 * retries on 5xx that log nothing twice, and `publishMany` split at the hub's batch limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHeraldPublisher, HeraldError, type PublishItem } from '../../clients/sdk/src/index.js';
import { startServer, type TestServer } from '../utils/server.js';
import { startHttpProxy, type HttpProxy } from '../utils/http-proxy.js';
import { payloadOf } from '../utils/sdk.js';

describe('@herald/sdk publisher', () => {
  let server: TestServer;
  let proxy: HttpProxy;
  const service = () => server.token('svc-pub', 'service');

  beforeAll(async () => {
    server = await startServer();
    proxy = await startHttpProxy(Number(new URL(server.url).port), 'pass');
  });
  afterAll(async () => {
    await proxy.close();
    await server.close({ removeData: true });
  });

  /** Every logged event id of one source, oldest first (paged, as a row limit applies). */
  const loggedIds = async (source: string) => {
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { body }: { body: any } = await server.gql(
        'query($s: [String!], $after: String) { events(filter: { sources: $s }, first: 500, after: $after, order: OLDEST_FIRST) { edges { node { id } } pageInfo { endCursor hasNextPage } } }',
        { s: [source], after },
        server.token('adm_pub', 'admin'),
      );
      ids.push(...body.data.events.edges.map((e: any) => e.node.id as string));
      if (!body.data.events.pageInfo.hasNextPage) return ids;
      after = body.data.events.pageInfo.endCursor;
    }
  };

  it('publishes a typed event and returns what the hub logged', async () => {
    const publisher = createHeraldPublisher({ url: server.graphqlUrl, token: service(), source: 'orders-service' });
    const event = await publisher.publish('ORDER_CREATED', payloadOf('ORDER_CREATED'), { userId: 'cus_pub', level: 'HIGH', idempotencyKey: 'orders:ord_pub:created' });
    expect(event).toMatchObject({ type: 'ORDER_CREATED', level: 'HIGH', userId: 'cus_pub', source: 'orders-service', roles: [] });
    expect(typeof event.cursor).toBe('string');
    const again = await publisher.publish('ORDER_CREATED', payloadOf('ORDER_CREATED'), { userId: 'cus_pub', idempotencyKey: 'orders:ord_pub:created' });
    expect(again.id).toBe(event.id);
  });

  it('throws HeraldError with the hub\'s code and field, without retrying what would fail again', async () => {
    const publisher = createHeraldPublisher({ url: proxy.graphqlUrl, token: service(), source: 'bad-service' });
    const before = proxy.requests;
    const bad = payloadOf('ORDER_CREATED');
    (bad.items[0] as { quantity: number }).quantity = -1;
    const error = await publisher.publish('ORDER_CREATED', bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HeraldError);
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.items[0].quantity', status: 400 });
    expect(proxy.requests - before).toBe(1);

    const asCustomer = createHeraldPublisher({ url: server.graphqlUrl, token: server.token('cus_pub', 'customer'), source: 'bad-service' });
    await expect(asCustomer.publish('ORDER_CREATED', payloadOf('ORDER_CREATED'))).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('retries 5xx answers with the same idempotency key, so the event is logged once', async () => {
    const publisher = createHeraldPublisher({ url: proxy.graphqlUrl, token: service(), source: 'retry-service', initialRetryDelayMs: 20, maxRetryDelayMs: 100 });
    proxy.failRequests = 3;
    const before = proxy.requests;
    const event = await publisher.publish('SYSTEM_ALERT', payloadOf('SYSTEM_ALERT'));
    expect(proxy.requests - before).toBe(4);
    expect(await loggedIds('retry-service')).toEqual([event.id]);

    proxy.failRequests = 100;
    const impatient = createHeraldPublisher({ url: proxy.graphqlUrl, token: service(), source: 'retry-service', maxRetries: 2, initialRetryDelayMs: 10 });
    await expect(impatient.publish('SYSTEM_ALERT', payloadOf('SYSTEM_ALERT'))).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    proxy.failRequests = 0;
  });

  it('splits publishMany at the hub\'s limit of 1000 inputs per call and keeps the order', async () => {
    const publisher = createHeraldPublisher({ url: proxy.graphqlUrl, token: service(), source: 'bulk-service' });
    const items: PublishItem[] = Array.from({ length: 1203 }, (_, i) =>
      i % 2
        ? { type: 'LOCATION_UPDATED' as const, payload: payloadOf('LOCATION_UPDATED', { accuracyMeters: i }), userId: 'cus_bulk' }
        : { type: 'ETA_UPDATED' as const, payload: payloadOf('ETA_UPDATED', { etaSeconds: i }), userId: 'cus_bulk' },
    );
    const before = proxy.requests;
    const published = await publisher.publishMany(items);
    expect(proxy.requests - before).toBe(2);
    expect(published).toHaveLength(1203);
    expect(published.map((e) => e.type)).toEqual(items.map((i) => i.type));
    expect(await loggedIds('bulk-service')).toEqual(published.map((e) => e.id));
  }, 30_000);
});
