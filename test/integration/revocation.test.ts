/**
 * revokeSessions across two Herald instances sharing one MongoDB-wire database (FerretDB): the user's live
 * sessions end on both within a second, the old token is refused by both (and after a restart), a new one works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../utils/server.js';
import { wsClient, type WsClientHandle } from '../utils/clients.js';
import { startMongoForTests, type TestMongo } from '../utils/mongo.js';
import { sleep } from '../utils/deferred.js';

const mongo = await startMongoForTests();
const skip = 'skip' in mongo ? mongo.skip : undefined;
if (skip) console.warn(skip);

const SUB = 'subscription { events { id } }';
const VIEWER = '{ viewer { userId } }';

/** Opens an SSE stream and resolves with the final `event: error` frame's data, or null if it ends without one. */
async function sseUntilClosed(url: string, token: string): Promise<{ code: number; reason: string } | null> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: SUB }),
  });
  expect(response.status).toBe(200);
  let text = '';
  const decoder = new TextDecoder();
  const reader = response.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return null;
    text += decoder.decode(value, { stream: true });
    const match = /event: error\ndata: (.*)\n\n/.exec(text);
    if (match) return JSON.parse(match[1]!);
  }
}

describe.skipIf(skip)('revokeSessions across instances', () => {
  let a: TestServer;
  let b: TestServer;
  const clients: WsClientHandle[] = [];

  beforeAll(async () => {
    const env = { MONGODB_URL: (mongo as TestMongo).url };
    a = await startServer({ env });
    b = await startServer({ env });
  });
  afterAll(async () => {
    for (const c of clients) await c.dispose().catch(() => {});
    await a?.close({ removeData: true });
    await b?.close({ removeData: true });
    if (!skip) await (mongo as TestMongo).stop();
  });

  it('ends the sessions on both instances within a second and refuses the old token everywhere, also after a restart', async () => {
    const old = a.token('cus_rev', 'customer');
    const other = a.token('cus_rev_other', 'customer');
    const ws = wsClient(a.wsUrl, old);
    clients.push(ws);
    ws.subscribe(SUB);
    await ws.connected;
    const bystander = wsClient(b.wsUrl, other);
    clients.push(bystander);
    bystander.subscribe(SUB);
    await bystander.connected;
    const sse = sseUntilClosed(b.graphqlUrl, old);
    // Both sessions are open before the revocation.
    await sleep(300);
    expect(b.herald.hub.connections.sessionsOf('cus_rev')).toHaveLength(1);

    const admin = a.token('adm_rev', 'admin');
    const started = Date.now();
    const revoked = await a.gql('mutation($u: ID!) { revokeSessions(userId: $u) }', { u: 'cus_rev' }, admin);
    expect(revoked.body.errors).toBeUndefined();
    expect(revoked.body.data.revokeSessions).toBe(1);

    const [wsClosed, sseClosed] = await Promise.all([ws.closed, sse]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(wsClosed.code).toBe(4401);
    expect(wsClosed.reason).toMatch(/revoked/);
    expect(sseClosed).toEqual({ code: 4401, reason: expect.stringMatching(/revoked/) });
    // Another user's session is untouched.
    expect(b.herald.hub.connections.sessionsOf('cus_rev_other')).toHaveLength(1);

    for (const server of [a, b]) {
      const refused = await server.gql(VIEWER, {}, old);
      expect(refused.status).toBe(401);
      expect(refused.body.errors![0].extensions.code).toBe('TOKEN_REVOKED');
    }

    // A token issued after the revocation works on both (iat has one-second resolution).
    await sleep(1100);
    const fresh = a.token('cus_rev', 'customer');
    for (const server of [a, b]) expect((await server.gql(VIEWER, {}, fresh)).body.data.viewer.userId).toBe('cus_rev');

    // A restarted instance still refuses the old token.
    await b.close({ removeData: true });
    b = await startServer({ env: { MONGODB_URL: (mongo as TestMongo).url } });
    expect((await b.gql(VIEWER, {}, old)).body.errors![0].extensions.code).toBe('TOKEN_REVOKED');
    expect((await b.gql(VIEWER, {}, fresh)).body.data.viewer.userId).toBe('cus_rev');
  });

  it('is for admins only', async () => {
    const response = await a.gql('mutation { revokeSessions(userId: "cus_x") }', {}, a.token('cus_x', 'customer'));
    expect(response.body.errors![0].extensions.code).toBe('FORBIDDEN');
  });
});
