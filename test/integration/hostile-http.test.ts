/**
 * Hostile input over HTTP (issue "Hostile clients can crash or stall Herald today"): each finding is a
 * test against the real server, as an attacker would send it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { request } from 'node:http';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, TEST_JWT_SECRET, type TestServer } from '../utils/server.js';
import { publish } from '../utils/publish.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

/** POSTs raw bytes with Content-Length and reads the status (the server may close early on a refusal). */
function postRaw(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    req.end(body);
  });
}

async function healthLatency(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/health`);
  await response.text();
  return performance.now() - started;
}

describe('hostile input over HTTP', () => {
  let server: TestServer;
  let customer: string;

  beforeAll(async () => {
    server = await startServer();
    customer = server.token('cus_hostile', 'customer');
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('answers 300 distinct 500 KB unauthenticated queries without growing the heap, /health staying fast', async () => {
    const start = heapAfterGc();
    let worstHealth = 0;
    for (let i = 0; i < 300; i++) {
      const prefix = `p${i}_`;
      const query = `{ ${Array.from({ length: 25_000 }, (_, j) => `${prefix}${j}: viewer { userId }`).join(' ')} }`.slice(0, 500_000);
      const { status } = await postRaw(server.graphqlUrl, JSON.stringify({ query }));
      expect([401, 413]).toContain(status);
      if (i % 30 === 0) worstHealth = Math.max(worstHealth, await healthLatency(server.url));
    }
    const grown = heapAfterGc() - start;
    expect(grown).toBeLessThan(50 * 1024 * 1024);
    expect(worstHealth).toBeLessThan(200);
  }, 120_000);

  it('answers a query without a token with 401 even where public introspection is on', async () => {
    const { status, body } = await server.gql('{ __typename viewer { userId } }');
    expect(status).toBe(401);
    expect(body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses 1,000 aliases of a 500-row page at once with QUERY_TOO_COMPLEX, /health unaffected', async () => {
    const query = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: events(first: 500) { edges { node { id type timestamp } } }`).join(' ')} }`;
    const started = performance.now();
    const [answer, health] = await Promise.all([server.gql(query, {}, customer), healthLatency(server.url)]);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(health).toBeLessThan(200);
    expect(answer.status).toBe(400);
    expect(answer.body.errors![0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  it.each([
    ['nesting of a legitimate query', `{ events(first: 1) { edges { node { ... on OrderCreatedEvent { items { sku } } } } } }`, null],
    ['tokens', `{ viewer { ${'userId '.repeat(3000)} } }`, 'maxTokens'],
    ['directives', `{ viewer { userId ${'@include(if: true) '.repeat(30)} } }`, 'maxDirectives'],
  ])('enforces the %s limit with a code', async (_name, query, limit) => {
    const { status, body } = await server.gql(query, {}, customer);
    if (limit === null) {
      expect(status).toBe(200); // a legitimate nested query stays within every limit
      return;
    }
    expect(status).toBe(400);
    expect(body.errors![0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit });
  });

  it('caps the rows one request reads over all its lists', async () => {
    const page = (alias: string) => `${alias}: events(first: 500) { edges { cursor } }`;
    const { status, body } = await server.gql(`{ ${page('a')} ${page('b')} ${page('c')} ${page('d')} ${page('e')} }`, {}, customer);
    expect(status).toBe(400);
    expect(body.errors![0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('refuses a body over MAX_REQUEST_BYTES with 413 before reading it', async () => {
    const { status, body } = await postRaw(server.graphqlUrl, JSON.stringify({ query: '{ viewer { userId } }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } }), {
      authorization: `Bearer ${customer}`,
    });
    expect(status).toBe(413);
    expect(JSON.parse(body).errors[0].extensions.code).toBe('REQUEST_TOO_LARGE');
  });

  it.each([
    ['a bad enum value', '{ events(first: 1, filter: { types: [NOPE] }) { edges { cursor } } }', undefined, 'GRAPHQL_VALIDATION_FAILED', undefined],
    ['an unknown input field', '{ events(first: 1, filter: { bogus: 1 }) { edges { cursor } } }', undefined, 'GRAPHQL_VALIDATION_FAILED', undefined],
    ['a syntax error', '{ events(first: 1', undefined, 'GRAPHQL_PARSE_FAILED', undefined],
    ['a variable of the wrong type', 'query($n: Int) { events(first: $n) { edges { cursor } } }', { n: 'abc' }, 'BAD_USER_INPUT', '$n'],
    ['data: null in a variable', 'mutation($i: PublishEventInput!) { publishEvent(input: $i) { id } }', { i: { type: 'ORDER_CREATED', source: 'x', data: null } }, 'BAD_USER_INPUT', '$i.data'],
  ])('answers %s with 400 and a code, for plain application/json clients too', async (_name, query, variables, code, field) => {
    const token = code === 'BAD_USER_INPUT' && field === '$i.data' ? server.token('svc', 'service') : customer;
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
    expect(response.status).toBe(400);
    expect(body.errors[0]!.extensions.code).toBe(code);
    if (field) {
      expect(body.errors[0]!.extensions.field).toBe(field);
      expect(body.errors[0]!.message).toContain(field.split('.')[0]!);
    }
  });

  it('refuses tokens without exp, living longer than JWT_MAX_AGE, or with an oversized sub', async () => {
    const noExp = jwt.sign({ role: 'customer', sub: 'cus_forever' }, TEST_JWT_SECRET);
    const year3000 = jwt.sign({ role: 'customer', sub: 'cus_3000', exp: Math.floor(Date.UTC(3000, 0, 1) / 1000) }, TEST_JWT_SECRET);
    const bigSub = jwt.sign({ role: 'customer', sub: 'x'.repeat(10_000) }, TEST_JWT_SECRET, { expiresIn: '1h' });
    for (const token of [noExp, year3000, bigSub]) {
      const { status, body } = await server.gql('{ viewer { userId } }', {}, token);
      expect(status).toBe(401);
      expect(body.errors![0].extensions.code).toBe('TOKEN_INVALID');
    }
    expect((await server.gql('{ viewer { userId } }', {}, customer)).status).toBe(200);
  });

  it('answers tracking an unknown delivery and someone else\'s delivery the same way', async () => {
    await publish(server, {
      type: 'delivery_accepted',
      userId: 'cus_owner',
      data: { ...(await import('../../src/events/examples.js')).examplePayload('delivery_accepted', { deliveryId: 'dlv_exists', customerId: 'cus_owner', deliveryPartnerId: 'dp_x' }) },
    });
    const query = 'subscription($id: ID!) { deliveryTracking(deliveryId: $id) { id } }';
    const ask = async (id: string) => {
      const response = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${customer}` },
        body: JSON.stringify({ query, variables: { id } }),
      });
      const text = await response.text();
      return { status: response.status, text: text.replace(/dlv_\w+/g, 'dlv_?') };
    };
    const [unknown, foreign] = [await ask('dlv_never_seen'), await ask('dlv_exists')];
    expect(unknown).toEqual(foreign);
    expect(unknown.text).toContain('FORBIDDEN');
  });
});

describe('hostile input over HTTP, production settings', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { NODE_ENV: 'production' } });
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('gives no field suggestions, with or without a token', async () => {
    const anonymous = await server.gql('{ viewer { userI } }');
    expect(anonymous.status).toBe(401);
    const authed = await server.gql('{ viewer { userI } }', {}, server.token('cus_p', 'customer'));
    expect(authed.status).toBe(400);
    expect(JSON.stringify(authed.body)).not.toMatch(/Did you mean|userId/);
  });

  it('does not serve GraphiQL by default', async () => {
    const response = await fetch(server.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(response.status).not.toBe(200);
    expect(await response.text()).not.toMatch(/<html/i);
  });
});

describe('GraphiQL where it is on', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('serves the page compressed, with an ETag and a cache lifetime, and 304 on revalidation', async () => {
    const first = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: number }>((resolve, reject) => {
      request(server.graphqlUrl, { headers: { accept: 'text/html', 'accept-encoding': 'gzip, br' } }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
      })
        .on('error', reject)
        .end();
    });
    expect(first.status).toBe(200);
    expect(first.headers['content-encoding']).toBe('br');
    expect(first.headers['cache-control']).toMatch(/max-age=\d+/);
    expect(first.bytes).toBeLessThan(3 * 1024 * 1024);
    const again = await fetch(server.graphqlUrl, { headers: { accept: 'text/html', 'if-none-match': String(first.headers['etag']) } });
    expect(again.status).toBe(304);
  });
});
