import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../utils/server.js';
import { publish } from '../utils/publish.js';
import { examplePayload } from '../../src/events/examples.js';
import { CSV_COLUMNS } from '../../src/analytics/export.js';
import { parseCsv } from '../utils/csv.js';

describe('GET /export', () => {
  let server: TestServer;
  let admin: string;
  const published: { id: string; cursor: string; timestamp: string }[] = [];

  beforeAll(async () => {
    server = await startServer();
    admin = server.token('adm_export', 'admin');
    published.push(await publish(server, { type: 'order_created', userId: 'cus_x1', source: 'orders-service' }));
    published.push(await publish(server, { type: 'order_ready', roles: ['customer', 'supplier'], source: 'orders-service' }));
    // A payload with quotes, commas and a newline exercises CSV quoting.
    published.push(
      await publish(server, {
        type: 'delivery_arrived',
        userId: 'cus_x1',
        source: 'dispatch',
        data: examplePayload('delivery_arrived', { dropoffInstructions: 'Ring "Weber",\n3rd floor' }),
      }),
    );
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  const get = (query: string, token: string | null = admin, init: RequestInit = {}) =>
    fetch(`${server.url}/export${query}`, { ...init, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('streams every event as a JSON array, oldest first, as an attachment', async () => {
    const response = await get('?format=json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="herald-events-start-\d{8}T\d{9}Z\.json"$/);
    const records = (await response.json()) as any[];
    expect(records.map((r) => r.id)).toEqual(published.map((e) => e.id));
    expect(records[0]).toEqual({
      id: published[0]!.id,
      cursor: published[0]!.cursor,
      type: 'order_created',
      level: 'HIGH',
      userId: 'cus_x1',
      roles: [],
      source: 'orders-service',
      timestamp: published[0]!.timestamp,
      data: examplePayload('order_created'),
    });
    expect(records[1]).toMatchObject({ type: 'order_ready', userId: null, roles: ['customer', 'supplier'] });
  });

  it('defaults to JSON and answers an empty range with an empty array', async () => {
    const all = await get('');
    expect(all.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await all.json()) as unknown[]).length).toBe(3);
    const none = await get('?from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z');
    expect(await none.json()).toEqual([]);
  });

  it('streams NDJSON, one record per line', async () => {
    const response = await get('?format=ndjson');
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await response.text()).split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((line) => JSON.parse(line).id)).toEqual(published.map((e) => e.id));
  });

  it('streams CSV with the documented columns and RFC 4180 quoting', async () => {
    const response = await get('?format=csv');
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/\.csv"$/);
    const text = await response.text();
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows[0]).toEqual(['id', 'cursor', 'type', 'level', 'userId', 'roles', 'source', 'timestamp', 'data']);
    expect(rows).toHaveLength(4);
    expect(rows[1]!.slice(0, 8)).toEqual([published[0]!.id, published[0]!.cursor, 'order_created', 'HIGH', 'cus_x1', '', 'orders-service', published[0]!.timestamp]);
    expect(JSON.parse(rows[1]![8]!)).toEqual(examplePayload('order_created'));
    expect(rows[2]!.slice(4, 6)).toEqual(['', 'customer|supplier']);
    expect(JSON.parse(rows[3]![8]!).dropoffInstructions).toBe('Ring "Weber",\n3rd floor');
  });

  it('exports only [from, to)', async () => {
    const from = published[1]!.timestamp;
    const response = await get(`?format=ndjson&from=${encodeURIComponent(from)}&to=${encodeURIComponent(new Date(Date.parse(published[2]!.timestamp) + 1).toISOString())}`);
    const ids = (await response.text()).trim().split('\n').map((line) => JSON.parse(line).id);
    expect(ids).toEqual(published.filter((e) => e.timestamp >= from).map((e) => e.id));
    const toOnly = await get(`?format=ndjson&to=${encodeURIComponent(published[0]!.timestamp)}`);
    expect(await toOnly.text()).toBe('');
  });

  it('answers 401 without a token or with a bad one, 403 to non-admins', async () => {
    const anonymous = await get('?format=csv', null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await anonymous.json()) as any).error.code).toBe('UNAUTHENTICATED');
    const forged = await get('?format=csv', 'not-a-jwt');
    expect(forged.status).toBe(401);
    for (const role of ['customer', 'service', 'supplier'] as const) {
      const response = await get('?format=csv', server.token('u1', role));
      expect(response.status).toBe(403);
      expect(((await response.json()) as any).error.code).toBe('FORBIDDEN');
    }
    // The token never travels in the query string for exports.
    const inQuery = await get(`?format=csv&access_token=${admin}`, null);
    expect(inQuery.status).toBe(401);
  });

  it('answers 400 naming the parameter for a bad format or time, 405 for other methods', async () => {
    for (const [query, field] of [
      ['?format=xml', 'format'],
      ['?from=yesterday', 'from'],
      ['?to=2026-13-01T00:00:00Z', 'to'],
      ['?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'to'],
    ] as const) {
      const response = await get(query);
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as any).error).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const post = await get('', admin, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });
});

describe('GET /export when the log fails mid-export', () => {
  it('breaks the connection so the client sees an incomplete download, not a complete file', async () => {
    const { createServer } = await import('node:http');
    const { createSchema, createYoga } = await import('graphql-yoga');
    const { useExport } = await import('../../src/transport/export.js');
    const { createTokenVerifier, signDevToken } = await import('../../src/auth/tokens.js');
    const { createLogger } = await import('../../src/log.js');
    const secret = 'export-abort-test-secret-0123456789abcdef';
    let reads = 0;
    const event = (seq: number) => ({ id: `evt_${seq}`, seq, type: 'order_created', level: 'HIGH', userId: null, roles: [], source: 's', timestamp: 0, data: {}, deliveryId: null, idempotencyKey: null });
    const store = {
      kind: 'failing',
      epoch: 'k3v9x2mq',
      async list() {
        if (++reads > 1) throw new Error('disk on fire');
        return Array.from({ length: 1000 }, (_, i) => event(i + 1));
      },
    } as never;
    const yoga = createYoga({
      schema: createSchema({ typeDefs: 'type Query { ok: Boolean }' }),
      plugins: [useExport({ store, verifier: createTokenVerifier({ secret, secretSource: 'env' }), logger: createLogger('silent') })],
    });
    const http = createServer(yoga);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = http.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/export?format=ndjson`, {
        headers: { authorization: `Bearer ${signDevToken(secret, { sub: 'adm', role: 'admin' })}` },
      });
      expect(response.status).toBe(200);
      await expect(response.text()).rejects.toThrow();
      expect(reads).toBe(2);
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
