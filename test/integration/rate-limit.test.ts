/** Publishing is rate-limited per token: over the limit, 429 RATE_LIMITED with Retry-After; others unaffected. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../utils/server.js';
import { examplePayload } from '../../src/events/examples.js';

const PUBLISH = 'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }';
const inputs = (n: number) => Array.from({ length: n }, () => ({ type: 'ORDER_CREATED', userId: 'cus_rl', source: 'orders', data: examplePayload('order_created') }));

const METRICS = 'metrics-token-for-the-rate-limit-test-0123';
/** `herald_requests_refused_total{limit="publishRate"}` as /metrics shows it. */
async function refusedByRate(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith('herald_requests_refused_total{') && l.includes('limit="publishRate"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('publish rate limit per token', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { PUBLISH_RATE_PER_TOKEN: '10', PUBLISH_BURST_PER_TOKEN: '10', METRICS_TOKEN: METRICS } });
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  const post = (token: string, n: number) =>
    fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: PUBLISH, variables: { inputs: inputs(n) } }),
    });

  it('answers 429 RATE_LIMITED with Retry-After past the burst, counts each event of a batch, and recovers', async () => {
    const orders = server.token('svc_orders', 'service');
    expect((await post(orders, 8)).status).toBe(200);
    const before = await refusedByRate(server);
    const refused = await post(orders, 5);
    expect(refused.status).toBe(429);
    expect(await refusedByRate(server)).toBe(before + 1);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await refused.json()) as any;
    expect(body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(body.errors[0].extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(body.errors[0].message).toMatch(/PUBLISH_RATE_PER_TOKEN/);
    // Another service's token has its own bucket.
    expect((await post(server.token('svc_payments', 'service'), 5)).status).toBe(200);
    // Nothing of the refused batch was written.
    const admin = server.token('adm_rl', 'admin');
    const { body: log } = await server.gql('{ events(first: 100) { edges { node { id } } } }', {}, admin);
    expect(log.data.events.edges).toHaveLength(13);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await post(orders, 5)).status).toBe(200);
  });
});
