/**
 * `/metrics`: scraped like Prometheus would (text format, parsed with a Prometheus text parser), protected by
 * METRICS_TOKEN, and saying what happened: sessions, events published, dispatch latency, store latency, closes,
 * operations refused by document limits, webhook endpoints by health.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- the parser ships no types
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { examplePayload } from '../../src/events/examples.js';
import { startServer, type TestServer } from '../utils/server.js';
import { rawSocket, wsClient } from '../utils/clients.js';
import { publish } from '../utils/publish.js';
import { waitFor } from '../utils/deferred.js';
import { startReceiver, type Receiver } from '../utils/receiver.js';

interface Family {
  name: string;
  type: string;
  metrics: Array<{ value?: string; count?: string; labels?: Record<string, string> }>;
}

const TOKEN = 'metrics-token-for-the-tests-0123';

describe('/metrics', () => {
  let server: TestServer;
  let receiver: Receiver | undefined;
  beforeAll(async () => {
    server = await startServer({
      env: {
        METRICS_TOKEN: TOKEN,
        // A depth limit a real query of this schema can break; loopback receivers with a quick retry.
        MAX_DEPTH: '4',
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        WEBHOOK_RETRY_SCHEDULE: '0,200ms,200ms,200ms',
      },
    });
  });
  afterAll(async () => {
    await receiver?.close();
    await server.close({ removeData: true });
  });

  let text = '';
  const scrape = async (): Promise<Map<string, Family>> => {
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await response.text();
    const families = parsePrometheusTextFormat(text) as Family[];
    return new Map(families.map((f) => [f.name, f]));
  };
  const value = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}) =>
    Number(families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ?? NaN);

  it('refuses a scrape without the token', async () => {
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-of-same-size-0123' } })).status).toBe(401);
  });

  it('counts sessions, published events, dispatch and store latency, and closes', async () => {
    const ws = wsClient(server.wsUrl, server.token('cus_m1', 'customer'));
    const sub = ws.subscribe('subscription { events { id } }');
    await ws.connected;
    await waitFor(() => server.herald.hub.router.size >= 1, 2000, 'the subscription');
    let families = await scrape();
    expect(value(families, 'herald_sessions', { transport: 'websocket' })).toBe(1);
    expect(value(families, 'herald_sessions_by_role', { role: 'customer' })).toBe(1);
    expect(value(families, 'herald_live_subscriptions')).toBe(1);
    for (let i = 0; i < 3; i++) await publish(server, { type: 'order_created', userId: 'cus_m1', source: 'orders-metrics' });
    await sub.waitForCount(3);
    families = await scrape();
    expect(value(families, 'herald_events_published_total', { type: 'order_created', source: 'orders-metrics' })).toBe(3);
    const dispatch = families.get('herald_publish_to_dispatch_seconds')!;
    expect(dispatch.type).toBe('HISTOGRAM');
    expect(Number(dispatch.metrics[0]!.count)).toBeGreaterThanOrEqual(3);
    // The parser drops the labels of labelled histograms: read that series from the text.
    expect(families.get('herald_store_operation_seconds')?.type).toBe('HISTOGRAM');
    const appends = /^herald_store_operation_seconds_count\{store="sqlite",operation="append",outcome="ok"\} (\d+)$/m.exec(text);
    expect(Number(appends?.[1])).toBeGreaterThanOrEqual(3);
    expect(value(families, 'herald_subscriptions_total', { outcome: 'live' })).toBeGreaterThanOrEqual(1);
    expect(families.has('herald_nodejs_eventloop_lag_seconds')).toBe(true);

    await ws.dispose();
    await waitFor(() => server.herald.hub.connections.size === 0, 2000, 'the session closed');
    families = await scrape();
    expect(value(families, 'herald_sessions_opened_total')).toBeGreaterThanOrEqual(1);
    const closes = families.get('herald_session_closes_total')!.metrics.reduce((sum, m) => sum + Number(m.value), 0);
    expect(closes).toBeGreaterThanOrEqual(1);
  });

  it('counts operations refused by each document limit, over HTTP and WebSocket, repeated documents included', async () => {
    const refused = (families: Map<string, Family>, limit: string) => value(families, 'herald_requests_refused_total', { limit }) || 0;
    const limits = ['maxTokens', 'maxDepth', 'maxAliases', 'maxDirectives', 'maxDocumentBytes', 'maxCost'];
    const before = await scrape();
    const admin = server.token('adm_limits', 'admin');
    const refuse = async (query: string, limit: string, status = 400) => {
      const { status: got, body } = await server.gql(query, {}, admin);
      expect(got).toBe(status);
      if (status === 400) expect(body.errors![0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit });
    };
    // The same token bomb twice: the second answer comes from Yoga's parse-error cache and must count too.
    const tokens = `{ viewer { ${'userId '.repeat(3000)} } }`;
    await refuse(tokens, 'maxTokens');
    await refuse(tokens, 'maxTokens');
    const deep = '{ events(first: 1) { edges { node { ... on OrderCreatedEvent { items { sku } } } } } }';
    await refuse(deep, 'maxDepth');
    await refuse(deep, 'maxDepth');
    await refuse(`{ ${Array.from({ length: 21 }, (_, i) => `a${i}: viewer { userId }`).join(' ')} }`, 'maxAliases');
    await refuse(`{ viewer { userId ${'@include(if: true) '.repeat(30)} } }`, 'maxDirectives');
    await refuse(`# ${'x'.repeat(110 * 1024)}\n{ viewer { userId } }`, 'maxDocumentBytes', 413);
    // Over WebSocket the same limits hold, and are counted.
    const socket = await rawSocket(server.wsUrl, admin);
    socket.send({ id: 'bomb', type: 'subscribe', payload: { query: `subscription { events { ${'id '.repeat(3000)} } }` } });
    await waitFor(() => socket.frames.some((f) => f.id === 'bomb' && f.type === 'error'), 2000, 'the refusal');
    socket.socket.close();
    // A legitimate query is not counted.
    expect((await server.gql('{ viewer { userId } }', {}, admin)).status).toBe(200);

    const after = await scrape();
    expect(after.get('herald_requests_refused_total')?.type).toBe('COUNTER');
    const delta = Object.fromEntries(limits.map((limit) => [limit, refused(after, limit) - refused(before, limit)]));
    expect(delta).toEqual({ maxTokens: 3, maxDepth: 2, maxAliases: 1, maxDirectives: 1, maxDocumentBytes: 1, maxCost: 0 });
  });

  it('shows webhook endpoints by health and counts their health changes', async () => {
    const endpoints = (f: Map<string, Family>, state: string, reason = '') =>
      Number(f.get('herald_webhook_endpoints')?.metrics.find((m) => m.labels?.['state'] === state && (m.labels?.['reason'] ?? '') === reason)?.value ?? NaN);
    const changes = (f: Map<string, Family>, to: string) => value(f, 'herald_webhook_endpoint_health_changes_total', { to }) || 0;
    receiver = await startReceiver();
    // Fails once, then succeeds: failing, then recovered. The other one is gone (410): disabled at once.
    receiver.on('/flaky', (_, n) => (n === 1 ? { status: 500 } : { status: 204 }));
    receiver.on('/gone', { status: 410 });
    const supplier = 'sup_metrics_health';
    const token = server.token(supplier, 'supplier');
    for (const path of ['/flaky', '/gone']) {
      const { body } = await server.gql(
        `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`,
        { input: { url: receiver.url(path), eventTypes: [path === '/flaky' ? 'ORDER_CREATED' : 'ORDER_CANCELLED'] } },
        token,
      );
      expect(body.errors).toBeUndefined();
    }
    let f = await scrape();
    expect(f.get('herald_webhook_endpoints')?.type).toBe('GAUGE');
    expect([endpoints(f, 'healthy'), endpoints(f, 'failing'), endpoints(f, 'disabled', 'gone')]).toEqual([2, 0, 0]);

    await publish(server, { type: 'order_created', userId: supplier, data: examplePayload('order_created', { supplierId: supplier }) });
    await receiver.waitForCount(1, { path: '/flaky' });
    await waitFor(async () => endpoints(await scrape(), 'failing') === 1, 3000, 'the endpoint to be failing');
    expect(changes(await scrape(), 'failing')).toBe(1);
    await receiver.waitForCount(2, { path: '/flaky' });
    await waitFor(async () => endpoints(await scrape(), 'failing') === 0, 3000, 'the endpoint to recover');
    f = await scrape();
    expect([endpoints(f, 'healthy'), changes(f, 'recovered')]).toEqual([2, 1]);

    await publish(server, { type: 'order_cancelled', userId: supplier, level: 'HIGH' });
    await receiver.waitForCount(1, { path: '/gone' });
    await waitFor(async () => endpoints(await scrape(), 'disabled', 'gone') === 1, 3000, 'the gone endpoint to be disabled');
    f = await scrape();
    expect([endpoints(f, 'healthy'), endpoints(f, 'failing'), changes(f, 'disabled_gone')]).toEqual([1, 0, 1]);
  });

  it('is off in production without METRICS_TOKEN', async () => {
    const prod = await startServer({ env: { NODE_ENV: 'production', GRAPHIQL: 'false' } });
    try {
      expect((await fetch(`${prod.url}/metrics`)).status).toBe(404);
    } finally {
      await prod.close({ removeData: true });
    }
  });
});
