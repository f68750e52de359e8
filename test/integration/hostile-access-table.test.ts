/**
 * The second hostile-input table (the first is hostile-table.test.ts): access across users and roles on every query,
 * mutation and subscription, webhook URLs aimed at internal addresses in every notation (through the API), tokens
 * for the wrong audience or issuer, injection-shaped filters, CSV injection in exports, and the rate limits. One
 * row per case, each asserting the exact answer (status and `extensions.code`, close code), and after each a normal
 * client is still served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { startServer, TEST_JWT_SECRET, type TestServer } from '../utils/server.js';
import { rawSocket } from '../utils/clients.js';
import { waitFor } from '../utils/deferred.js';
import { publish, toInput } from '../utils/publish.js';
import { parseCsv } from '../utils/csv.js';
import { CSV_COLUMNS } from '../../src/analytics/export.js';

async function stillServes(server: TestServer) {
  const { status, body } = await server.gql('{ viewer { userId role } }', {}, server.token('cus_normal', 'customer'));
  expect(status).toBe(200);
  expect(body.data.viewer.userId).toBe('cus_normal');
}

const codeOf = (body: { errors?: any[] }) => body.errors?.[0]?.extensions?.code;

describe('access across users and roles', () => {
  let server: TestServer;
  let endpointId: string;
  let deliveryId: string;
  let eventOfA: string;
  /** The cursor of an event published before supplier A's: replaying after it covers A's event. */
  let startCursor: string;
  beforeAll(async () => {
    // Plain-HTTP loopback endpoints allowed here (the SSRF rows below run on a server with the defaults).
    server = await startServer({ env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
    const made = await server.gql('mutation { createWebhookEndpoint(input: { url: "http://127.0.0.1:9/hook", eventTypes: [INVENTORY_ALERT] }) { endpoint { id } } }', {}, server.token('sup_a', 'supplier'));
    endpointId = made.body.data.createWebhookEndpoint.endpoint.id;
    startCursor = (await publish(server, { type: 'order_created', userId: 'cus_first' })).cursor;
    eventOfA = (await publish(server, { type: 'inventory_alert', userId: 'sup_a' })).id;
    await waitFor(async () => {
      const { body } = await server.gql(`{ webhookDeliveries(endpointId: "${endpointId}") { edges { node { id } } } }`, {}, server.token('sup_a', 'supplier'));
      deliveryId = body.data?.webhookDeliveries.edges[0]?.node.id;
      return deliveryId !== undefined;
    }, 10_000, "supplier A's delivery");
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  // Supplier B on supplier A's endpoint and delivery: NOT_FOUND, as for ids that do not exist (no probing).
  const otherSupplier: Array<[string, () => string]> = [
    ['webhookDeliveries', () => `{ webhookDeliveries(endpointId: "${endpointId}") { edges { node { id } } } }`],
    ['updateWebhookEndpoint', () => `mutation { updateWebhookEndpoint(id: "${endpointId}", input: { description: "mine now" }) { id } }`],
    ['deleteWebhookEndpoint', () => `mutation { deleteWebhookEndpoint(id: "${endpointId}") }`],
    ['rotateWebhookSecret', () => `mutation { rotateWebhookSecret(id: "${endpointId}") { secret } }`],
    ['enableWebhookEndpoint', () => `mutation { enableWebhookEndpoint(id: "${endpointId}") { id } }`],
    ['disableWebhookEndpoint', () => `mutation { disableWebhookEndpoint(id: "${endpointId}") { id } }`],
    ['sendTestWebhook', () => `mutation { sendTestWebhook(endpointId: "${endpointId}") { __typename } }`],
    ['replayWebhookDelivery', () => `mutation { replayWebhookDelivery(id: "${deliveryId}") { id } }`],
    ['replayWebhookEndpoint', () => `mutation { replayWebhookEndpoint(endpointId: "${endpointId}", since: "2020-01-01T00:00:00Z") { __typename } }`],
  ];
  it.each(otherSupplier)("another supplier calling %s on supplier A's endpoint: 404 NOT_FOUND", async (_name, query) => {
    const { status, body } = await server.gql(query(), {}, server.token('sup_b', 'supplier'));
    expect(status).toBe(404);
    expect(codeOf(body)).toBe('NOT_FOUND');
    await stillServes(server);
  });

  it("another supplier listing supplier A's endpoints by ownerId: 403 FORBIDDEN; its own list is empty", async () => {
    const b = server.token('sup_b', 'supplier');
    const { status, body } = await server.gql('{ webhookEndpoints(ownerId: "sup_a") { id } }', {}, b);
    expect(status).toBe(403);
    expect(codeOf(body)).toBe('FORBIDDEN');
    expect((await server.gql('{ webhookEndpoints { id } }', {}, b)).body.data.webhookEndpoints).toEqual([]);
    // A's endpoint is untouched by every row above.
    const mine = await server.gql('{ webhookEndpoints { id description } }', {}, server.token('sup_a', 'supplier'));
    expect(mine.body.data.webhookEndpoints).toEqual([{ id: endpointId, description: null }]);
    await stillServes(server);
  });

  // Customers, delivery partners and services on webhook operations: FORBIDDEN (webhooks are for suppliers and admins).
  const webhookOps = ['{ webhookEndpoints { id } }', ...otherSupplier.map(([, query]) => query)];
  const nonSuppliers = ['customer', 'delivery_partner', 'service'] as const;
  it.each(nonSuppliers.flatMap((role) => webhookOps.map((query, i) => [role, i, query] as const)))('%s calling webhook operation #%i: 403 FORBIDDEN', async (role, _i, query) => {
    const { status, body } = await server.gql(typeof query === 'string' ? query : query(), {}, server.token(`${role}_x`, role));
    expect(status).toBe(403);
    expect(codeOf(body)).toBe('FORBIDDEN');
  });

  // Admin-only queries and mutations, for every other role.
  const adminOnly: Array<[string, string]> = [
    ['analyticsSummary', '{ analyticsSummary { total } }'],
    ['criticalEvents', '{ criticalEvents { edges { node { id } } } }'],
    ['timeline', '{ timeline(userId: "sup_a") { edges { node { id } } } }'],
    ['errorSummary', '{ errorSummary { total } }'],
    ['userActivityHeatmap', '{ userActivityHeatmap(userId: "sup_a") { userId } }'],
    ['eventRate', '{ eventRate(from: "2020-01-01T00:00:00Z", to: "2020-01-02T00:00:00Z") { total } }'],
    ['connectionStats', '{ connectionStats { total } }'],
    ['closeUserSessions', 'mutation { closeUserSessions(userId: "sup_a") }'],
    ['revokeSessions', 'mutation { revokeSessions(userId: "sup_a") }'],
  ];
  const others = ['customer', 'supplier', 'delivery_partner', 'service'] as const;
  it.each(adminOnly.flatMap(([name, query]) => others.map((role) => [name, role, query] as const)))('%s by a %s: 403 FORBIDDEN', async (_name, role, query) => {
    const { status, body } = await server.gql(query, {}, server.token(`${role}_y`, role));
    expect(status).toBe(403);
    expect(codeOf(body)).toBe('FORBIDDEN');
  });

  it.each(['customer', 'supplier', 'delivery_partner'] as const)('publishEvent by a %s: 403 FORBIDDEN, nothing written', async (role) => {
    const { status, body } = await server.gql('mutation { publishEvent(input: { type: INVENTORY_ALERT, userId: "sup_a", source: "inventory-service", data: {} }) { id } }', {}, server.token(`${role}_p`, role));
    expect(status).toBe(403);
    expect(codeOf(body)).toBe('FORBIDDEN');
    await stillServes(server);
  });

  it.each([
    ['event by id', () => `{ event(id: "${eventOfA}") { id } }`, (data: any) => data.event],
    ['events filtered by their userId', () => '{ events(filter: { userId: "sup_a" }) { edges { node { id } } } }', (data: any) => data.events.edges[0] ?? null],
    ['events filtered by their type', () => '{ events(filter: { types: [INVENTORY_ALERT] }) { edges { node { id } } } }', (data: any) => data.events.edges[0] ?? null],
  ])("another supplier reading supplier A's event (%s) sees nothing", async (_name, query, pick) => {
    const { status, body } = await server.gql(query(), {}, server.token('sup_b', 'supplier'));
    expect(status).toBe(200);
    expect(pick(body.data)).toBeNull();
    // Supplier A does see it: the row tests access, not an empty log.
    expect(pick((await server.gql(query(), {}, server.token('sup_a', 'supplier'))).body.data)).not.toBeNull();
  });

  it("a subscription of another supplier replaying from the start receives none of supplier A's events", async () => {
    const ws = await rawSocket(server.wsUrl, server.token('sup_b', 'supplier'));
    const replay = { query: 'subscription($a: String) { events(after: $a) { id userId } }', variables: { a: startCursor } };
    ws.send({ id: 'b', type: 'subscribe', payload: replay });
    const mine = await rawSocket(server.wsUrl, server.token('sup_a', 'supplier'));
    mine.send({ id: 'a', type: 'subscribe', payload: replay });
    await waitFor(() => mine.frames.some((f) => f.id === 'a' && f.payload?.data?.events?.id === eventOfA), 5000, "A's own event");
    await publish(server, { type: 'inventory_alert', userId: 'sup_a' });
    await waitFor(() => mine.frames.filter((f) => f.id === 'a' && f.type === 'next').length >= 2, 5000, "A's live event");
    expect(ws.frames.filter((f) => f.id === 'b' && f.type === 'next')).toEqual([]);
    ws.socket.close();
    mine.socket.close();
    await stillServes(server);
  });

  it.each([
    ['a customer', 'customer', 'subscription { events(types: [INVENTORY_ALERT]) { id } }'],
    ['a supplier', 'supplier', 'subscription { events(types: [EARNING_RECORDED]) { id } }'],
    ['a delivery partner', 'delivery_partner', 'subscription { events(types: [SYSTEM_ALERT]) { id } }'],
  ] as const)('%s subscribing to a type its role may never receive: FORBIDDEN for that operation', async (_name, role, query) => {
    const ws = await rawSocket(server.wsUrl, server.token(`${role}_t`, role));
    ws.send({ id: 't', type: 'subscribe', payload: { query } });
    await waitFor(() => ws.frames.some((f) => f.id === 't'), 5000, 'the answer');
    const answer = ws.frames.find((f) => f.id === 't');
    const errors = answer.type === 'error' ? answer.payload : answer.payload.errors;
    expect(errors[0].extensions.code, JSON.stringify(answer)).toBe('FORBIDDEN');
    ws.socket.close();
    await stillServes(server);
  });
});

describe('webhook URLs aimed at internal addresses, through the API', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(); // the defaults: https only, public addresses only
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  // [url, what the refusal names]
  const rows: Array<[string, RegExp]> = [
    ['https://127.0.0.1/h', /loopback/],
    ['https://127.0.0.1:8443/h', /loopback/],
    ['https://127.1/h', /loopback/],
    ['https://2130706433/h', /loopback/],
    ['https://017700000001/h', /loopback/],
    ['https://0x7f000001/h', /loopback/],
    ['https://0x7f.0.0.1/h', /loopback/],
    ['https://0177.0.0.1/h', /loopback/],
    ['https://%31%32%37.0.0.1/h', /loopback/],
    ['https://localhost/h', /loopback/],
    ['https://LOCALHOST/h', /loopback/],
    ['https://[::1]/h', /loopback/],
    ['https://[::ffff:127.0.0.1]/h', /loopback/],
    ['https://[::ffff:7f00:1]/h', /loopback/],
    ['https://[64:ff9b::7f00:1]/h', /loopback/],
    ['https://[2002:7f00:1::]/h', /loopback/],
    ['https://169.254.169.254/latest/meta-data', /link-local/],
    ['https://[::ffff:a9fe:a9fe]/h', /link-local/],
    ['https://10.0.0.1/h', /private/],
    ['https://172.16.0.1/h', /private/],
    ['https://192.168.1.1/h', /private/],
    ['https://100.64.0.1/h', /CGNAT/],
    ['https://0.0.0.0/h', /this network/],
    ['https://0/h', /this network/],
    ['https://[::]/h', /unspecified/],
    ['https://[fd00::1]/h', /unique local/],
    ['https://[fc00::1]/h', /unique local/],
    ['https://[fe80::1]/h', /link-local/],
    ['https://224.0.0.1/h', /multicast/],
    ['https://255.255.255.255/h', /broadcast/],
    ['https://198.18.0.1/h', /benchmarking/],
    ['https://192.0.0.1/h', /IETF/],
    ['http://93.184.216.34/h', /scheme "http:"/],
    ['ftp://93.184.216.34/h', /scheme "ftp:"/],
    ['file:///etc/passwd', /scheme "file:"/],
    ['javascript:alert(1)', /scheme "javascript:"/],
    ['https://user:pass@93.184.216.34/h', /credentials/],
    ['not a url', /not a valid URL/],
  ];
  it.each(rows)('createWebhookEndpoint with %s: 400 UNSAFE_URL naming the reason', async (url, reason) => {
    const { status, body } = await server.gql('mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } } }', { i: { url, eventTypes: ['INVENTORY_ALERT'] } }, server.token('sup_ssrf', 'supplier'));
    expect(status).toBe(400);
    expect(codeOf(body)).toBe('UNSAFE_URL');
    expect(body.errors![0].message).toMatch(reason);
    await stillServes(server);
  });

  it('updateWebhookEndpoint of a public endpoint to an internal address: 400 UNSAFE_URL, the URL unchanged; no row registered anything', async () => {
    const supplier = server.token('sup_ssrf', 'supplier');
    expect((await server.gql('{ webhookEndpoints { id } }', {}, supplier)).body.data.webhookEndpoints).toEqual([]);
    // A public address literal needs no DNS; no event is published for it, so nothing is ever sent there.
    const made = await server.gql('mutation { createWebhookEndpoint(input: { url: "https://93.184.216.34/h", eventTypes: [INVENTORY_ALERT] }) { endpoint { id } } }', {}, supplier);
    const id = made.body.data.createWebhookEndpoint.endpoint.id;
    const { status, body } = await server.gql(`mutation { updateWebhookEndpoint(id: "${id}", input: { url: "https://[::ffff:10.1.1.1]/h" }) { id } }`, {}, supplier);
    expect(status).toBe(400);
    expect(codeOf(body)).toBe('UNSAFE_URL');
    expect((await server.gql('{ webhookEndpoints { url } }', {}, supplier)).body.data.webhookEndpoints).toEqual([{ url: 'https://93.184.216.34/h' }]);
    await server.gql(`mutation { deleteWebhookEndpoint(id: "${id}") }`, {}, supplier);
  });
});

describe('tokens for another audience or issuer', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { JWT_AUDIENCE: 'herald-api', JWT_ISSUER: 'https://auth.example' } });
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });
  const sign = (claims: object) => jwt.sign({ role: 'customer', sub: 'cus_aud', ...claims }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: '1h' });
  const good = () => sign({ aud: 'herald-api', iss: 'https://auth.example' });
  const rows: Array<[string, () => string]> = [
    ['no aud', () => sign({ iss: 'https://auth.example' })],
    ['another aud', () => sign({ aud: 'billing-api', iss: 'https://auth.example' })],
    ['an aud list without ours', () => sign({ aud: ['billing-api', 'herald'], iss: 'https://auth.example' })],
    ['an aud that only starts like ours', () => sign({ aud: 'herald-api-v2', iss: 'https://auth.example' })],
    ['no iss', () => sign({ aud: 'herald-api' })],
    ['another iss', () => sign({ aud: 'herald-api', iss: 'https://evil.example' })],
  ];
  it.each(rows)('%s: 401 TOKEN_INVALID over HTTP, 4401 over WebSocket', async (_name, token) => {
    const { status, body } = await server.gql('{ viewer { userId } }', {}, token());
    expect(status).toBe(401);
    expect(codeOf(body)).toBe('TOKEN_INVALID');
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token()}` } }));
    expect(await closed).toBe(4401);
    // The right audience and issuer are served.
    expect((await server.gql('{ viewer { userId } }', {}, good())).body.data.viewer.userId).toBe('cus_aud');
  });
});

describe('injection-shaped filters', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
    await publish(server, { type: 'order_created', userId: 'cus_victim' });
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });
  const admin = () => server.token('adm_inj', 'admin');
  const QUERY = 'query($f: EventFilter) { events(filter: $f, first: 10) { edges { node { id userId } } } }';

  // Strings that look like operators match nothing (they are values, never operators).
  const asValues: Array<[string, Record<string, unknown>]> = [
    ['userId {"$gt": ""} as a string', { userId: '{"$gt": ""}' }],
    ['userId {"$ne": null} as a string', { userId: '{"$ne": null}' }],
    ['userId with SQL', { userId: "' OR '1'='1" }],
    ['userId with a LIKE wildcard', { userId: '%' }],
    ['userId with a regex', { userId: '.*' }],
    ['a source with SQL', { sources: ["orders'); DROP TABLE events; --"] }],
    ['a source {"$regex": ".*"} as a string', { sources: ['{"$regex": ".*"}'] }],
  ];
  it.each(asValues)('%s: 200, no events', async (_name, filter) => {
    const { status, body } = await server.gql(QUERY, { f: filter }, admin());
    expect(status).toBe(200);
    expect(body.data.events.edges).toEqual([]);
    // The log is intact and the event is still there.
    const { body: all } = await server.gql(QUERY, { f: { userId: 'cus_victim' } }, admin());
    expect(all.data.events.edges).toHaveLength(1);
  });

  // Objects where a scalar is expected are refused by the schema.
  const asObjects: Array<[string, Record<string, unknown>]> = [
    ['userId {"$gt": ""} as an object', { userId: { $gt: '' } }],
    ['userId {"$where": "1"} as an object', { userId: { $where: '1' } }],
    ['types with an operator object', { types: [{ $in: ['ORDER_CREATED'] }] }],
    ['levels with a string that is not a level', { levels: ['CRITICAL OR 1=1'] }],
    ['from that is not a date', { from: "2020-01-01' OR '1'='1" }],
    ['an unknown filter field', { $where: 'this.userId' }],
  ];
  it.each(asObjects)('%s: 400 BAD_USER_INPUT', async (_name, filter) => {
    const { status, body } = await server.gql(QUERY, { f: filter }, admin());
    expect(status).toBe(400);
    expect(codeOf(body)).toBe('BAD_USER_INPUT');
    await stillServes(server);
  });
});

describe('CSV injection in exports', () => {
  let server: TestServer;
  let rows: string[][];
  const triggers = ['=1+1', '+1+1', '-1+1', '@SUM(A1)', '\t=1', '\r=1', '=HYPERLINK("http://x","y")', '=cmd|\' /C calc\'!A0'];
  const ids = new Map<string, string>();
  beforeAll(async () => {
    server = await startServer();
    for (const userId of triggers) ids.set(userId, (await publish(server, { type: 'order_created', userId })).id);
    const response = await fetch(`${server.url}/export?format=csv`, { headers: { authorization: `Bearer ${server.token('adm_csv2', 'admin')}` } });
    expect(response.status).toBe(200);
    rows = parseCsv(await response.text());
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });
  it.each(triggers)('a userId %j is exported with a leading quote, so no spreadsheet runs it', async (userId) => {
    const row = rows.find((r) => r[CSV_COLUMNS.indexOf('id')] === ids.get(userId));
    expect(row, 'its row').toBeDefined();
    expect(row![CSV_COLUMNS.indexOf('userId')]).toBe(`'${userId}`);
    await stillServes(server);
  });
});

const PUBLISH = 'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }';

describe('the rate limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    // 1 new connection per 10 s per address, 2 at once: the rows below spend the burst and meet the limit.
    server = await startServer({ env: { CONNECTION_RATE_PER_IP: '0.1', CONNECTION_BURST_PER_IP: '2', SUBSCRIBE_RATE_PER_CONNECTION: '1', SUBSCRIBE_BURST_PER_CONNECTION: '1', PUBLISH_RATE_PER_TOKEN: '1', PUBLISH_BURST_PER_TOKEN: '1' } });
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('a subscribe over SUBSCRIBE_RATE_PER_CONNECTION: RATE_LIMITED for that id, the socket stays', async () => {
    const ws = await rawSocket(server.wsUrl, server.token('cus_rl1', 'customer'));
    ws.send({ id: '1', type: 'subscribe', payload: { query: '{ viewer { userId } }' } });
    ws.send({ id: '2', type: 'subscribe', payload: { query: '{ viewer { userId } }' } });
    await waitFor(() => ws.frames.some((f) => f.id === '2'), 5000, 'the answer');
    expect(ws.frames.find((f) => f.id === '2').payload[0].extensions.code).toBe('RATE_LIMITED');
    expect(ws.socket.readyState).toBe(WebSocket.OPEN);
    ws.socket.close();
    await stillServes(server);
  });

  it('an upgrade over CONNECTION_RATE_PER_IP: HTTP 429 with Retry-After before the handshake', async () => {
    const attempt = () =>
      new Promise<[number, string | undefined]>((resolve) => {
        const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
        socket.once('unexpected-response', (_req, res) => resolve([res.statusCode!, res.headers['retry-after'] as string | undefined]));
        socket.once('error', () => {});
        socket.once('open', () => (socket.close(), resolve([101, undefined])));
      });
    // The subscribe row's socket took one of the two; the next is let in, the one after refused.
    expect((await attempt())[0]).toBe(101);
    const status = await attempt();
    expect(status[0]).toBe(429);
    expect(Number(status[1])).toBeGreaterThanOrEqual(1);
    await stillServes(server);
  });

  it('an SSE stream over CONNECTION_RATE_PER_IP: HTTP 429 RATE_LIMITED with Retry-After', async () => {
    const response = await fetch(server.graphqlUrl, { method: 'POST', headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${server.token('cus_rl3', 'customer')}` }, body: '{"query":"subscription { events { id } }"}' });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(codeOf((await response.json()) as any)).toBe('RATE_LIMITED');
    await stillServes(server);
  });

  it('a publish over PUBLISH_RATE_PER_TOKEN: 429 RATE_LIMITED with Retry-After', async () => {
    const service = server.token('svc_rl', 'service');
    const publishOnce = () => fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${service}` }, body: JSON.stringify({ query: PUBLISH, variables: { inputs: [toInput({ type: 'system_alert' })] } }) });
    const first = await publishOnce();
    const second = await publishOnce();
    expect([first.status, second.status]).toContain(429);
    const refused = first.status === 429 ? first : second;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(codeOf((await refused.json()) as any)).toBe('RATE_LIMITED');
    await stillServes(server);
  });
});
