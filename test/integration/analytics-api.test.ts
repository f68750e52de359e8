import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../utils/server.js';
import { publish, toInput } from '../utils/publish.js';
import { examplePayload } from '../../src/events/examples.js';

const SUMMARY = `query($date: String) { analyticsSummary(date: $date) {
  date total byType { type count } bySource { source count } byLevel { level count } } }`;
const CRITICAL = `query($hours: Int, $first: Int, $after: String) { criticalEvents(hours: $hours, first: $first, after: $after) {
  edges { cursor node { id type level } } pageInfo { endCursor hasNextPage } } }`;
const TIMELINE = `query($userId: ID!, $from: DateTime, $to: DateTime, $first: Int, $after: String, $order: EventOrder) {
  timeline(userId: $userId, from: $from, to: $to, first: $first, after: $after, order: $order) {
    edges { node { id type userId } } pageInfo { endCursor hasNextPage } } }`;
const ERRORS = `query($hours: Int, $latest: Int) { errorSummary(hours: $hours, latest: $latest) {
  since total byKind { kind count } bySource { source count } latest { id kind source field message at details } } }`;
const HEATMAP = `query($userId: ID!, $days: Int) { userActivityHeatmap(userId: $userId, days: $days) { userId from total matrix } }`;
const RATE = `query($from: DateTime!, $to: DateTime!, $bucket: RateBucket) { eventRate(from: $from, to: $to, bucket: $bucket) {
  bucket from to total average p95 peak { start count } points { start count } } }`;

const PUBLISH = 'mutation($input: PublishEventInput!) { publishEvent(input: $input) { id } }';

describe('analytics over GraphQL', () => {
  let server: TestServer;
  let admin: string;
  const published: { id: string; type: string; userId: string | null }[] = [];
  const startedAt = Date.now();

  beforeAll(async () => {
    server = await startServer();
    admin = server.token('adm_analytics', 'admin');
    const inputs = [
      { type: 'order_created', userId: 'cus_a1', source: 'orders-service' },
      { type: 'payment_failed', userId: 'cus_a1', source: 'payments-service' },
      { type: 'payment_failed', userId: 'cus_a2', source: 'payments-service' },
      { type: 'order_ready', userId: 'cus_a1', source: 'orders-service' },
      { type: 'system_alert', source: 'monitor' },
      { type: 'order_created', userId: 'cus_a2', source: 'orders-service', level: 'LOW' },
    ] as const;
    for (const input of inputs) {
      const event = await publish(server, input);
      published.push({ id: event.id, type: input.type, userId: 'userId' in input ? input.userId : null });
    }
    // Two rejected publishes land in event_errors as validation failures.
    const data = examplePayload('order_created');
    delete data['orderId'];
    const service = server.token('orders-service', 'service');
    await server.gql(PUBLISH, { input: toInput({ type: 'order_created', data, source: 'orders-service' }) }, service);
    await server.gql(PUBLISH, { input: toInput({ type: 'order_created', source: 'bad source!' }) }, service);
    await server.herald.analytics.flushErrors();
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  const today = () => new Date().toISOString().slice(0, 10);

  it("sums today's events by type, source and level from the counters", async () => {
    const { status, body } = await server.gql(SUMMARY, { date: today() }, admin);
    expect(status).toBe(200);
    const summary = body.data.analyticsSummary;
    expect(summary.date).toBe(today());
    expect(summary.total).toBe(6);
    expect(summary.byType).toEqual([
      { type: 'ORDER_CREATED', count: 2 },
      { type: 'PAYMENT_FAILED', count: 2 },
      { type: 'ORDER_READY', count: 1 },
      { type: 'SYSTEM_ALERT', count: 1 },
    ]);
    expect(summary.bySource).toEqual([
      { source: 'orders-service', count: 3 },
      { source: 'payments-service', count: 2 },
      { source: 'monitor', count: 1 },
    ]);
    expect(summary.byLevel).toEqual([
      { level: 'CRITICAL', count: 3 },
      { level: 'HIGH', count: 2 },
      { level: 'MEDIUM', count: 0 },
      { level: 'LOW', count: 1 },
    ]);
    const omitted = await server.gql(SUMMARY, {}, admin);
    expect(omitted.body.data.analyticsSummary.total).toBe(6);
    const empty = await server.gql(SUMMARY, { date: '2001-02-03' }, admin);
    expect(empty.body.data.analyticsSummary).toMatchObject({ total: 0, byType: [], bySource: [] });
  });

  it('lists the critical events of the last hours newest first, in pages', async () => {
    const critical = published.filter((e) => e.type === 'payment_failed' || e.type === 'system_alert').map((e) => e.id).reverse();
    const first = await server.gql(CRITICAL, { hours: 1, first: 2 }, admin);
    const conn = first.body.data.criticalEvents;
    expect(conn.edges.map((e: any) => e.node.id)).toEqual(critical.slice(0, 2));
    expect(conn.edges.every((e: any) => e.node.level === 'CRITICAL')).toBe(true);
    expect(conn.pageInfo.hasNextPage).toBe(true);
    const second = await server.gql(CRITICAL, { hours: 1, first: 2, after: conn.pageInfo.endCursor }, admin);
    expect(second.body.data.criticalEvents.edges.map((e: any) => e.node.id)).toEqual(critical.slice(2));
    expect(second.body.data.criticalEvents.pageInfo.hasNextPage).toBe(false);
  });

  it("tells one user's story oldest first, bounded by time and page size", async () => {
    const mine = published.filter((e) => e.userId === 'cus_a1').map((e) => e.id);
    const { body } = await server.gql(TIMELINE, { userId: 'cus_a1' }, admin);
    expect(body.data.timeline.edges.map((e: any) => e.node.id)).toEqual(mine);
    const newest = await server.gql(TIMELINE, { userId: 'cus_a1', first: 1, order: 'NEWEST_FIRST' }, admin);
    expect(newest.body.data.timeline.edges.map((e: any) => e.node.id)).toEqual([mine.at(-1)]);
    expect(newest.body.data.timeline.pageInfo.hasNextPage).toBe(true);
    const future = await server.gql(TIMELINE, { userId: 'cus_a1', from: new Date(Date.now() + 60_000).toISOString() }, admin);
    expect(future.body.data.timeline.edges).toEqual([]);
  });

  it('counts recorded failures by kind and source and shows the latest, with the rejected field', async () => {
    const { body } = await server.gql(ERRORS, { hours: 1, latest: 5 }, admin);
    const summary = body.data.errorSummary;
    expect(summary.total).toBe(2);
    expect(summary.byKind).toEqual([
      { kind: 'VALIDATION', count: 2 },
      { kind: 'DELIVERY', count: 0 },
      { kind: 'PROCESSING', count: 0 },
    ]);
    expect(summary.bySource).toEqual([
      { source: 'bad source!', count: 1 },
      { source: 'orders-service', count: 1 },
    ]);
    expect(summary.latest.map((e: any) => [e.kind, e.source, e.field])).toEqual([
      ['VALIDATION', 'bad source!', 'source'],
      ['VALIDATION', 'orders-service', 'data.orderId'],
    ]);
    expect(summary.latest[1]).toMatchObject({ details: { type: 'order_created' } });
    expect(Date.parse(summary.latest[0].at)).toBeGreaterThanOrEqual(startedAt - 1000);
  });

  it('records failures reported through recordError (webhook deliveries)', async () => {
    server.herald.analytics.recordError({ kind: 'delivery', source: 'webhooks', message: 'HTTP 503 from endpoint', endpointId: 'ep_1', eventId: published[0]!.id, details: { status: 503, attempt: 2 } });
    await server.herald.analytics.flushErrors();
    const { body } = await server.gql(ERRORS, { hours: 1, latest: 1 }, admin);
    expect(body.data.errorSummary.byKind).toContainEqual({ kind: 'DELIVERY', count: 1 });
    expect(body.data.errorSummary.latest[0]).toMatchObject({ kind: 'DELIVERY', source: 'webhooks', details: { status: 503, attempt: 2 } });
  });

  it("maps a user's activity into a 7x24 UTC weekday-by-hour matrix", async () => {
    const { body } = await server.gql(HEATMAP, { userId: 'cus_a1', days: 7 }, admin);
    const heatmap = body.data.userActivityHeatmap;
    expect(heatmap.matrix).toHaveLength(7);
    expect(heatmap.matrix.every((row: number[]) => row.length === 24)).toBe(true);
    expect(heatmap.total).toBe(3);
    expect(heatmap.matrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(3);
    // The events were published between startedAt and now: only those cells can be non-zero.
    const cell = (ms: number) => `${new Date(ms).getUTCDay()}:${new Date(ms).getUTCHours()}`;
    const hot = heatmap.matrix.flatMap((row: number[], day: number) => row.flatMap((n, hour) => (n > 0 ? [`${day}:${hour}`] : [])));
    for (const c of hot) expect([cell(startedAt), cell(Date.now())]).toContain(c);
  });

  it('charts the event rate with zero buckets and statistics', async () => {
    const to = new Date(Date.now() + 60_000);
    const from = new Date(to.getTime() - 10 * 60_000);
    const { body } = await server.gql(RATE, { from: from.toISOString(), to: to.toISOString(), bucket: 'MINUTE' }, admin);
    const rate = body.data.eventRate;
    expect(rate.bucket).toBe('MINUTE');
    expect(rate.points.length).toBeGreaterThanOrEqual(10);
    expect(rate.points.length).toBeLessThanOrEqual(11);
    expect(rate.total).toBe(6);
    expect(rate.points.reduce((sum: number, p: any) => sum + p.count, 0)).toBe(6);
    expect(rate.points.filter((p: any) => p.count === 0).length).toBeGreaterThan(0);
    expect(rate.average).toBeCloseTo(6 / rate.points.length);
    expect(rate.peak.count).toBeGreaterThan(0);
    const hourly = await server.gql(RATE, { from: from.toISOString(), to: to.toISOString() }, admin);
    expect(hourly.body.data.eventRate.bucket).toBe('HOUR');
    expect(hourly.body.data.eventRate.total).toBe(6);
  });

  it('refuses every analytics query to non-admins with FORBIDDEN', async () => {
    const customer = server.token('cus_a1', 'customer');
    const service = server.token('svc', 'service');
    for (const [query, variables] of [
      [SUMMARY, {}],
      [CRITICAL, {}],
      [TIMELINE, { userId: 'cus_a1' }],
      [ERRORS, {}],
      [HEATMAP, { userId: 'cus_a1' }],
      [RATE, { from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z' }],
    ] as const) {
      for (const token of [customer, service]) {
        const { status, body } = await server.gql(query, variables, token);
        expect(status).toBe(403);
        expect(body.errors![0].extensions.code).toBe('FORBIDDEN');
        expect(body.data).toBeFalsy();
      }
    }
    const anonymous = await server.gql(SUMMARY, {});
    expect(anonymous.status).toBe(401);
  });

  it('answers bad arguments with BAD_USER_INPUT naming the argument', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [SUMMARY, { date: 'yesterday' }, 'date'],
      [SUMMARY, { date: '2026-02-30' }, 'date'],
      [CRITICAL, { hours: 0 }, 'hours'],
      [CRITICAL, { hours: 24 * 91 }, 'hours'],
      [CRITICAL, { first: 501 }, 'first'],
      [CRITICAL, { after: 'nope' }, 'after'],
      [TIMELINE, { userId: 'u', from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'to'],
      [TIMELINE, { userId: '' }, 'userId'],
      [ERRORS, { latest: 101 }, 'latest'],
      [HEATMAP, { userId: 'u', days: 0 }, 'days'],
      [RATE, { from: '2026-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z', bucket: 'MINUTE' }, 'bucket'],
      [RATE, { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'to'],
    ];
    for (const [query, variables, field] of cases) {
      const { status, body } = await server.gql(query, variables, admin);
      expect(status, JSON.stringify(variables)).toBe(400);
      expect(body.errors![0].extensions, JSON.stringify(variables)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });
});
