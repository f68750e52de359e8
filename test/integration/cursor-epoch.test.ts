/**
 * Cursors name their log (src/events/cursor.ts). A cursor of another log — another Herald's, a log recreated since,
 * or an epoch-less cursor of a Herald before cursors named their log — is refused with CURSOR_UNKNOWN instead of
 * replaying this log's unrelated events after the same number; an expired one says where the log now starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../utils/server.js';
import { wsClient } from '../utils/clients.js';
import { publish } from '../utils/publish.js';
import { sleep } from '../utils/deferred.js';
import { cursorParts } from '../utils/cursors.js';
import { startMongoForTests, uniqueDbName, withDbName, type TestMongo } from '../utils/mongo.js';
import { createMongoEventStore } from '../../src/store/mongo/mongo-event-store.js';

const SUB = 'subscription($after: String) { events(after: $after) { id cursor } }';

/** Opens an SSE stream with `Last-Event-ID`, as a reconnecting EventSource does; returns the refusal. */
async function sseResume(server: TestServer, token: string, lastEventId: string) {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}`, 'last-event-id': lastEventId },
    body: JSON.stringify({ query: SUB }),
  });
  return { status: response.status, text: await response.text() };
}

async function wsResume(server: TestServer, token: string, after: string) {
  const client = wsClient(server.wsUrl, token);
  const sub = client.subscribe(SUB, { after });
  await sub.ended;
  await client.dispose();
  return sub.items[0].errors[0];
}

describe('cursors of another log', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(), startServer()]);
  });
  afterAll(async () => {
    await Promise.all([a.close({ removeData: true }), b.close({ removeData: true })]);
  });

  it('gives two logs different epochs and keeps each across a restart', async () => {
    const fromA = await publish(a, { type: 'order_created', userId: 'cus_epoch' });
    const fromB = await publish(b, { type: 'order_created', userId: 'cus_epoch' });
    expect(cursorParts(fromA.cursor).epoch).not.toBe(cursorParts(fromB.cursor).epoch);

    const dataDir = a.dataDir;
    await a.close();
    a = await startServer({ dataDir });
    const again = await publish(a, { type: 'order_created', userId: 'cus_epoch' });
    expect(cursorParts(again.cursor).epoch).toBe(cursorParts(fromA.cursor).epoch);
    // A's cursor from before the restart still resumes on A, with exactly what came after it.
    const client = wsClient(a.wsUrl, a.token('cus_epoch', 'customer'));
    const sub = client.subscribe(SUB, { after: fromA.cursor });
    expect((await sub.waitForCount(1)).map((i: any) => i.data.events.id)).toEqual([again.id]);
    await client.dispose();
  });

  it("refuses A's cursor on B with CURSOR_UNKNOWN over WebSocket, SSE and in a page query, instead of replaying B's events", async () => {
    // B has events at the same positions as A's cursor: an epoch-less log would replay them.
    for (let i = 0; i < 3; i++) await publish(b, { type: 'order_created', userId: 'cus_foreign' });
    const fromA = await publish(a, { type: 'order_created', userId: 'cus_foreign' });
    const token = b.token('cus_foreign', 'customer');

    const ws = await wsResume(b, token, fromA.cursor);
    expect(ws.extensions.code).toBe('CURSOR_UNKNOWN');
    expect(ws.message).toContain('another event log');

    const sse = await sseResume(b, token, fromA.cursor);
    expect(sse.status).toBe(409);
    expect(sse.text).toContain('CURSOR_UNKNOWN');

    const page = await b.gql('query($after: String) { events(first: 5, after: $after) { edges { cursor } } }', { after: fromA.cursor }, token);
    expect(page.body.errors?.[0].extensions.code).toBe('CURSOR_UNKNOWN');
    expect(page.body.errors?.[0].extensions.field).toBe('after');

    // B still serves the same client from a cursor of its own log.
    const own = await publish(b, { type: 'order_created', userId: 'cus_foreign' });
    const client = wsClient(b.wsUrl, token);
    const sub = client.subscribe(SUB, {});
    await sleep(100);
    const next = await publish(b, { type: 'order_created', userId: 'cus_foreign' });
    expect((await sub.waitForCount(1))[0].data.events.id).toBe(next.id);
    expect(cursorParts(next.cursor).seq).toBeGreaterThan(cursorParts(own.cursor).seq);
    await client.dispose();
  });

  it('refuses an epoch-less cursor of an older Herald ("3") as a cursor of another log', async () => {
    const token = b.token('cus_legacy', 'customer');
    expect((await wsResume(b, token, '3')).extensions.code).toBe('CURSOR_UNKNOWN');
    const sse = await sseResume(b, token, '3');
    expect(sse.status).toBe(409);
    expect(sse.text).toContain('CURSOR_UNKNOWN');
  });

  it('refuses a string that is no cursor with BAD_USER_INPUT naming where it came from', async () => {
    const token = b.token('cus_garbage', 'customer');
    for (const garbage of ['k3v9x2mq', 'k3v9x2mq-', 'K3V9X2MQ-1', 'k3v9x2mq-1-2', 'ilou0000-1', '{"$gt":""}']) {
      const ws = await wsResume(b, token, garbage);
      expect(ws.extensions.code, garbage).toBe('BAD_USER_INPUT');
      expect(ws.extensions.field, garbage).toBe('after');
      const sse = await sseResume(b, token, garbage);
      expect(sse.status, garbage).toBe(400);
      expect(sse.text, garbage).toContain('Last-Event-ID');
    }
  });

  it('answers an expired cursor with CURSOR_EXPIRED and the oldest cursor, which resumes with what is left', async () => {
    const server = await startServer();
    try {
      const gone = await publish(server, { type: 'order_created', userId: 'cus_expired' });
      await publish(server, { type: 'order_created', userId: 'cus_expired' });
      await server.herald.store.purgeBefore(Date.now() + 1);
      const kept = await publish(server, { type: 'order_created', userId: 'cus_expired' });
      const token = server.token('cus_expired', 'customer');
      const before = cursorParts(gone.cursor);
      const expired = await wsResume(server, token, `${before.epoch}-${before.seq - 1}`);
      expect(expired.extensions.code).toBe('CURSOR_EXPIRED');
      const sse = await sseResume(server, token, `${before.epoch}-${before.seq - 1}`);
      expect(sse.status).toBe(410);
      expect(sse.text).toContain('oldestCursor');
      const oldest = expired.extensions.oldestCursor as string;
      expect(cursorParts(oldest).epoch).toBe(before.epoch);

      const client = wsClient(server.wsUrl, token);
      const sub = client.subscribe(SUB, { after: oldest });
      expect((await sub.waitForCount(1)).map((i: any) => i.data.events.id)).toEqual([kept.id]);
      await client.dispose();
    } finally {
      await server.close({ removeData: true });
    }
  });
});

const mongo = await startMongoForTests();
const skip = 'skip' in mongo ? mongo.skip : false;
if (skip) console.warn(skip);

describe.skipIf(skip)('the log epoch on MongoDB', () => {
  const m = mongo as TestMongo;
  afterAll(async () => m.stop());

  it('is chosen once for a database, even by instances starting at the same moment, and differs between databases', async () => {
    const url = withDbName(m.url, uniqueDbName());
    const stores = await Promise.all([0, 1, 2].map(() => createMongoEventStore({ url })));
    const other = await createMongoEventStore({ url: withDbName(m.url, uniqueDbName()) });
    try {
      expect(new Set(stores.map((s) => s.epoch)).size).toBe(1);
      expect(other.epoch).not.toBe(stores[0]!.epoch);
      const reopened = await createMongoEventStore({ url });
      expect(reopened.epoch).toBe(stores[0]!.epoch);
      await reopened.close();
    } finally {
      await Promise.all([...stores, other].map((s) => s.close()));
    }
  });
});
