/**
 * `/metrics`: scraped like Prometheus would (text format, parsed with a Prometheus text parser), protected by
 * METRICS_TOKEN, and saying what happened: sessions, events published, dispatch latency, store latency, closes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- the parser ships no types
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { startServer, type TestServer } from '../utils/server.js';
import { wsClient } from '../utils/clients.js';
import { publish } from '../utils/publish.js';
import { waitFor } from '../utils/deferred.js';

interface Family {
  name: string;
  type: string;
  metrics: Array<{ value?: string; count?: string; labels?: Record<string, string> }>;
}

const TOKEN = 'metrics-token-for-the-tests-0123';

describe('/metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(async () => {
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

  it('is off in production without METRICS_TOKEN', async () => {
    const prod = await startServer({ env: { NODE_ENV: 'production', GRAPHIQL: 'false' } });
    try {
      expect((await fetch(`${prod.url}/metrics`)).status).toBe(404);
    } finally {
      await prod.close({ removeData: true });
    }
  });
});
