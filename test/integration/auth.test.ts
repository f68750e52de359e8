import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import { startServer, TEST_JWT_SECRET, type TestServer } from '../utils/server.js';
import { wsClient } from '../utils/clients.js';
import { sleep } from '../utils/deferred.js';

describe('authentication and authorization', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  const expired = () => jwt.sign({ role: 'customer', sub: 'cus_x', exp: Math.floor(Date.now() / 1000) - 60 }, TEST_JWT_SECRET);

  it('answers 401 UNAUTHENTICATED over HTTP without a token', async () => {
    const { status, body } = await server.gql('{ viewer { userId } }');
    expect(status).toBe(401);
    expect(body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('answers 401 TOKEN_INVALID for a token signed with another secret', async () => {
    const forged = jwt.sign({ role: 'admin', sub: 'evil' }, 'some-other-secret');
    const { status, body } = await server.gql('{ viewer { userId } }', {}, forged);
    expect(status).toBe(401);
    expect(body.errors![0].extensions.code).toBe('TOKEN_INVALID');
  });

  it('answers 401 TOKEN_EXPIRED for an expired token', async () => {
    const { status, body } = await server.gql('{ viewer { userId } }', {}, expired());
    expect(status).toBe(401);
    expect(body.errors![0].extensions.code).toBe('TOKEN_EXPIRED');
  });

  it('answers 403 for a token whose role is unknown', async () => {
    const token = jwt.sign({ role: 'superuser', sub: 'u' }, TEST_JWT_SECRET);
    const { status, body } = await server.gql('{ viewer { userId } }', {}, token);
    expect(status).toBe(403);
    expect(body.errors![0].extensions.code).toBe('FORBIDDEN');
  });

  it('reads the legacy delivery_boy role as delivery_partner', async () => {
    const { body } = await server.gql('{ viewer { userId role } }', {}, server.token('dp_legacy', 'delivery_boy'));
    expect(body.data).toEqual({ viewer: { userId: 'dp_legacy', role: 'DELIVERY_PARTNER' } });
  });

  it('closes the socket with 4401 when connection_init carries no token', async () => {
    const c = wsClient(server.wsUrl, undefined);
    const closed = await c.closed;
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/authorization/);
    await c.dispose();
  });

  it('closes the socket with 4401 and says why when the token has expired', async () => {
    const c = wsClient(server.wsUrl, expired());
    const closed = await c.closed;
    expect(closed).toMatchObject({ code: 4401 });
    expect(closed.reason).toMatch(/expired/i);
    await c.dispose();
  });

  it('closes the socket with 4401 for a malformed token', async () => {
    const c = wsClient(server.wsUrl, 'garbage');
    expect((await c.closed).code).toBe(4401);
    await c.dispose();
  });

  it('closes the socket with 4403 for a role that may not connect', async () => {
    const c = wsClient(server.wsUrl, jwt.sign({ role: 'superuser', sub: 'u' }, TEST_JWT_SECRET));
    expect((await c.closed).code).toBe(4403);
    await c.dispose();
  });

  it('closes a live socket with 4401 when its token expires', async () => {
    const c = wsClient(server.wsUrl, server.token('cus_short', 'customer', 1));
    await c.connected;
    const closed = await c.closed;
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/expired/);
    await c.dispose();
  });

  it('refuses connectionStats to non-admins with FORBIDDEN', async () => {
    const { status, body } = await server.gql('{ connectionStats { total } }', {}, server.token('cus_1', 'customer'));
    expect(status).toBe(403);
    expect(body.errors![0].extensions.code).toBe('FORBIDDEN');
  });

  it('serves GraphiQL to a browser and /health to probes', async () => {
    const page = await fetch(server.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/graphiql/i);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', store: 'sqlite' });
    expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
  });

  it('answers introspection without a token outside production, so GraphiQL can load the schema', async () => {
    const { status, body } = await server.gql('{ __schema { queryType { name } } }');
    expect(status).toBe(200);
    expect(body.data.__schema.queryType.name).toBe('Query');
    // ...but not when mixed with real fields
    const mixed = await server.gql('{ __schema { queryType { name } } viewer { userId } }');
    expect(mixed.status).toBe(401);
  });

  it('never echoes a token or secret in errors', async () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const { body } = await server.gql('{ viewer { userId } }', {}, token);
    expect(JSON.stringify(body)).not.toContain(token);
    expect(JSON.stringify(body)).not.toContain(TEST_JWT_SECRET);
    await sleep(0);
  });
});
