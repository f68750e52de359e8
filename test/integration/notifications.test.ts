/**
 * Notifications end to end, on SQLite and on MongoDB (FerretDB here): a real server, HTTP for queries and
 * mutations, graphql-ws for `notificationStateChanged`. Marking read, unread, all, archive and clear; the unread
 * count; visibility (one user cannot mark or see another's); the ids limit; roles; live sync between two
 * connections of one user; read state surviving a restart; and, on MongoDB, between two instances on one database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePayload } from '../../src/events/examples.js';
import { startServer, type TestServer } from '../utils/server.js';
import { sseSubscribe, wsClient } from '../utils/clients.js';
import { publish } from '../utils/publish.js';
import { startMongoForTests, uniqueDbName, withDbName, type TestMongo } from '../utils/mongo.js';
import { waitFor } from '../utils/deferred.js';

const mongo = await startMongoForTests();
const mongoSkip = 'skip' in mongo ? mongo.skip : undefined;
if (mongoSkip) console.warn(`notifications: the MongoDB half is skipped. ${mongoSkip}`);

const STATE_FIELDS = 'unreadCount unreadCountCapped readThrough clearedThrough updatedAt';
const STATE = `{ notificationState { ${STATE_FIELDS} } }`;
const LIST = `query($first: Int, $after: String, $unreadOnly: Boolean, $includeArchived: Boolean, $types: [EventType!]) {
  notifications(first: $first, after: $after, unreadOnly: $unreadOnly, includeArchived: $includeArchived, types: $types) {
    edges { cursor node { read archived event { id type cursor } } }
    pageInfo { endCursor hasNextPage }
  }
}`;
const MARK_READ = `mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { ${STATE_FIELDS} } }`;
const MARK_UNREAD = `mutation($ids: [ID!]!) { markNotificationsUnread(ids: $ids) { ${STATE_FIELDS} } }`;
const ARCHIVE = `mutation($ids: [ID!]!) { archiveNotifications(ids: $ids) { ${STATE_FIELDS} } }`;
const MARK_ALL = `mutation($through: String) { markAllNotificationsRead(through: $through) { ${STATE_FIELDS} } }`;
const CLEAR = `mutation($through: String) { clearNotifications(through: $through) { ${STATE_FIELDS} } }`;
const CHANGED = `subscription { notificationStateChanged { ${STATE_FIELDS} } }`;

interface Backend {
  readonly name: string;
  readonly skip?: string;
  /** Environment of a server on this store; `db` names the database (MongoDB) so two servers can share it. */
  env(db?: string): Record<string, string>;
}

const BACKENDS: Backend[] = [
  { name: 'SQLite', env: () => ({}) },
  {
    name: 'MongoDB',
    skip: mongoSkip,
    env: (db = uniqueDbName()) => ({ MONGODB_URL: withDbName((mongo as TestMongo).url, db) }),
  },
];

/** An order event addressed to `customerId` (customers may receive order_created). */
const orderFor = (server: TestServer, customerId: string, n: number) =>
  publish(server, {
    type: 'order_created',
    userId: customerId,
    data: examplePayload('order_created', { customerId, orderId: `ord_${customerId}_${n}` }),
  });

async function gqlOk<T = any>(server: TestServer, query: string, variables: Record<string, unknown> | undefined, token: string): Promise<T> {
  const { status, body } = await server.gql<T>(query, variables, token);
  if (body.errors) throw new Error(`${status}: ${JSON.stringify(body.errors)}`);
  return body.data as T;
}

function suite(backend: Backend) {
  describe.skipIf(backend.skip !== undefined)(`notifications on ${backend.name}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({ env: { ...backend.env(), NOTIFICATIONS_MAX_IDS: '5' } });
    });
    afterAll(async () => {
      await server?.close({ removeData: true });
    });

    const state = async (token: string) => (await gqlOk(server, STATE, undefined, token)).notificationState;
    const list = async (token: string, variables: Record<string, unknown> = {}) => (await gqlOk(server, LIST, variables, token)).notifications;

    it('counts unread events and marks them read, unread, all read, archived and cleared', async () => {
      const user = 'cus_rs_1';
      const token = server.token(user, 'customer');
      expect(await state(token)).toEqual({ unreadCount: 0, unreadCountCapped: false, readThrough: null, clearedThrough: null, updatedAt: null });
      const events = [];
      for (let i = 0; i < 4; i++) events.push(await orderFor(server, user, i));
      const [e0, e1, e2, e3] = events as [(typeof events)[0], (typeof events)[0], (typeof events)[0], (typeof events)[0]];

      expect((await state(token)).unreadCount).toBe(4);
      const first = await list(token);
      expect(first.edges.map((e: any) => e.node.event.id)).toEqual([e3.id, e2.id, e1.id, e0.id]);
      expect(first.edges.every((e: any) => e.node.read === false && e.node.archived === false && e.cursor === e.node.event.cursor)).toBe(true);

      const afterRead = (await gqlOk(server, MARK_READ, { ids: [e1.id, e2.id] }, token)).markNotificationsRead;
      expect(afterRead.unreadCount).toBe(2);
      expect(afterRead.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect((await list(token, { unreadOnly: true })).edges.map((e: any) => e.node.event.id)).toEqual([e3.id, e0.id]);

      expect((await gqlOk(server, MARK_UNREAD, { ids: [e2.id] }, token)).markNotificationsUnread.unreadCount).toBe(3);

      // Through e2's cursor: e3 stays unread.
      const all = (await gqlOk(server, MARK_ALL, { through: e2.cursor }, token)).markAllNotificationsRead;
      expect(all).toMatchObject({ unreadCount: 1, readThrough: e2.cursor });
      // Marked unread again below readThrough, then it counts again; the list has it under unreadOnly.
      expect((await gqlOk(server, MARK_UNREAD, { ids: [e0.id] }, token)).markNotificationsUnread.unreadCount).toBe(2);
      expect((await list(token, { unreadOnly: true })).edges.map((e: any) => e.node.event.id)).toEqual([e3.id, e0.id]);
      // readThrough never goes back.
      expect((await gqlOk(server, MARK_ALL, { through: e0.cursor }, token)).markAllNotificationsRead.readThrough).toBe(e2.cursor);

      const archived = (await gqlOk(server, ARCHIVE, { ids: [e3.id] }, token)).archiveNotifications;
      expect(archived.unreadCount).toBe(1);
      expect((await list(token)).edges.map((e: any) => e.node.event.id)).toEqual([e2.id, e1.id, e0.id]);
      const withArchived = await list(token, { includeArchived: true });
      expect(withArchived.edges.map((e: any) => [e.node.event.id, e.node.read, e.node.archived])).toEqual([
        [e3.id, false, true],
        [e2.id, true, false],
        [e1.id, true, false],
        [e0.id, false, false],
      ]);

      // Mark all read without a cursor: up to now.
      const e4 = await orderFor(server, user, 4);
      expect((await gqlOk(server, MARK_ALL, {}, token)).markAllNotificationsRead).toMatchObject({ unreadCount: 0, readThrough: e4.cursor });

      const cleared = (await gqlOk(server, CLEAR, {}, token)).clearNotifications;
      expect(cleared).toMatchObject({ unreadCount: 0, clearedThrough: e4.cursor });
      expect((await list(token, { includeArchived: true })).edges).toEqual([]);
      const e5 = await orderFor(server, user, 5);
      expect((await state(token)).unreadCount).toBe(1);
      expect((await list(token)).edges.map((e: any) => e.node.event.id)).toEqual([e5.id]);
      // A cleared event cannot be brought back by marking it.
      expect((await gqlOk(server, MARK_UNREAD, { ids: [e1.id] }, token)).markNotificationsUnread.unreadCount).toBe(1);
    });

    it('pages the list newest first with opaque cursors, and filters by type', async () => {
      const user = 'cus_rs_page';
      const token = server.token(user, 'customer');
      const published = [];
      for (let i = 0; i < 5; i++) published.push(await orderFor(server, user, i));
      await publish(server, { type: 'payment_failed', userId: user, data: examplePayload('payment_failed', { customerId: user }) });
      const seen: string[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const page: any = await list(token, { first: 2, after, types: ['ORDER_CREATED'] });
        seen.push(...page.edges.map((e: any) => e.node.event.id));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen).toEqual(published.map((e) => e.id).reverse());
      const forbidden = await server.gql(LIST, { types: ['SYSTEM_ALERT'] }, token);
      expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const badCursor = await server.gql(LIST, { after: 'not-a-cursor' }, token);
      expect(badCursor.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
      // A cursor of another log (or of a Herald before cursors named their log) is CURSOR_UNKNOWN, as for `events`.
      const foreign = await server.gql(MARK_ALL, { through: '3' }, token);
      expect(foreign.body.errors?.[0]?.extensions).toMatchObject({ code: 'CURSOR_UNKNOWN', field: 'through' });
      const tooMany = await server.gql(LIST, { first: 101 }, token);
      expect(tooMany.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    });

    it("keeps each user's state to itself: another user's ids are ignored and their events never listed", async () => {
      const alice = server.token('cus_rs_alice', 'customer');
      const bob = server.token('cus_rs_bob', 'customer');
      const aliceEvent = await orderFor(server, 'cus_rs_alice', 1);
      const bobEvent = await orderFor(server, 'cus_rs_bob', 1);

      const marked = (await gqlOk(server, MARK_READ, { ids: [bobEvent.id, 'evt_does_not_exist', 'x'.repeat(500)] }, alice)).markNotificationsRead;
      expect(marked).toEqual({ unreadCount: 1, unreadCountCapped: false, readThrough: null, clearedThrough: null, updatedAt: null });
      expect((await gqlOk(server, ARCHIVE, { ids: [bobEvent.id] }, alice)).archiveNotifications.updatedAt).toBeNull();
      expect((await state(bob)).unreadCount).toBe(1);
      expect((await list(alice, { includeArchived: true })).edges.map((e: any) => e.node.event.id)).toEqual([aliceEvent.id]);
      expect((await list(bob, { includeArchived: true })).edges.map((e: any) => e.node.event.id)).toEqual([bobEvent.id]);

      // Alice marking all read and clearing touches her state only.
      await gqlOk(server, MARK_ALL, {}, alice);
      await gqlOk(server, CLEAR, {}, alice);
      expect(await state(bob)).toMatchObject({ unreadCount: 1, readThrough: null, clearedThrough: null });
    });

    it('gives each role of one user id its own state, admins included; services are FORBIDDEN', async () => {
      const sub = 'rs_shared_sub';
      const event = await orderFor(server, sub, 1);
      const customer = server.token(sub, 'customer');
      const admin = server.token(sub, 'admin');
      expect((await state(customer)).unreadCount).toBe(1);
      await gqlOk(server, MARK_READ, { ids: [event.id] }, admin);
      expect((await state(customer)).unreadCount).toBe(1);
      expect((await list(admin, { includeArchived: true })).edges.find((e: any) => e.node.event.id === event.id)?.node.read).toBe(true);
      expect((await list(customer)).edges[0].node.read).toBe(false);

      const service = server.token('svc_rs', 'service');
      for (const [query, variables] of [[STATE, undefined], [LIST, {}], [MARK_READ, { ids: [event.id] }], [MARK_ALL, {}], [CLEAR, {}]] as const) {
        const answer = await server.gql(query, variables as Record<string, unknown> | undefined, service);
        expect(answer.body.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
      }
      const ws = wsClient(server.wsUrl, service);
      try {
        // Refused at its root: one result with the error, then complete (as `events` with a forbidden type).
        const sub = ws.subscribe(CHANGED);
        await sub.ended;
        expect(sub.items).toHaveLength(1);
        expect(sub.items[0].errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      } finally {
        await ws.dispose();
      }
    });

    it('refuses more ids than NOTIFICATIONS_MAX_IDS with BAD_USER_INPUT naming the limit, writing nothing', async () => {
      const user = 'cus_rs_limit';
      const token = server.token(user, 'customer');
      const event = await orderFor(server, user, 1);
      for (const query of [MARK_READ, MARK_UNREAD, ARCHIVE]) {
        const { status, body } = await server.gql(query, { ids: [event.id, 'a', 'b', 'c', 'd', 'e'] }, token);
        expect(status).toBe(400);
        expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ids', limit: 5 });
      }
      expect((await state(token)).unreadCount).toBe(1);
      expect((await gqlOk(server, MARK_READ, { ids: [event.id, event.id, event.id, event.id, event.id] }, token)).markNotificationsRead.unreadCount).toBe(0);
      const badThrough = await server.gql(MARK_ALL, { through: 'nope' }, token);
      expect(badThrough.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'through' });
    });

    it("caps the unread count at 99 and says so", async () => {
      const user = 'cus_rs_many';
      const token = server.token(user, 'customer');
      const service = server.token('svc_rs_bulk', 'service');
      const inputs = Array.from({ length: 101 }, (_, i) => ({
        type: 'ORDER_CREATED',
        userId: user,
        source: 'orders-service',
        data: examplePayload('order_created', { customerId: user, orderId: `ord_many_${i}` }),
      }));
      const published = await gqlOk(server, 'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }', { inputs }, service);
      expect(published.publishEvents).toHaveLength(101);
      expect(await state(token)).toMatchObject({ unreadCount: 99, unreadCountCapped: true });
      const ids = published.publishEvents.slice(0, 3).map((e: { id: string }) => e.id);
      expect((await gqlOk(server, MARK_READ, { ids }, token)).markNotificationsRead).toMatchObject({ unreadCount: 98, unreadCountCapped: false });
    });

    it("pushes a change on one connection to the same user's other connection within a second", async () => {
      const user = 'dp_rs_live';
      const token = server.token(user, 'delivery_partner');
      const event = await publish(server, { type: 'earning_recorded', userId: user, data: examplePayload('earning_recorded', { deliveryPartnerId: user }) });
      const phone = wsClient(server.wsUrl, token);
      const laptop = wsClient(server.wsUrl, token);
      const stranger = wsClient(server.wsUrl, server.token('dp_rs_other', 'delivery_partner'));
      try {
        const onPhone = phone.subscribe(CHANGED);
        const onStranger = stranger.subscribe(CHANGED);
        const [initial] = await onPhone.waitForCount(1);
        expect(initial.data.notificationStateChanged).toMatchObject({ unreadCount: 1, readThrough: null });
        await onStranger.waitForCount(1);

        // The laptop marks it read over its own WebSocket.
        const started = Date.now();
        const answer = await new Promise<any>((resolve, reject) => {
          let result: any;
          laptop.client.subscribe({ query: MARK_READ, variables: { ids: [event.id] } }, { next: (r) => (result = r), error: reject, complete: () => resolve(result) });
        });
        expect(answer.data.markNotificationsRead.unreadCount).toBe(0);
        const [, changed] = await onPhone.waitForCount(2, 1_000);
        expect(Date.now() - started).toBeLessThan(1_000);
        expect(changed.data.notificationStateChanged).toEqual(answer.data.markNotificationsRead);

        // Mark all read over HTTP reaches it too; the other user's subscription got nothing more.
        await gqlOk(server, MARK_ALL, {}, token);
        const [, , third] = await onPhone.waitForCount(3, 1_000);
        expect(third.data.notificationStateChanged.readThrough).toBe(event.cursor);
        expect(onStranger.items).toHaveLength(1);
      } finally {
        await Promise.all([phone.dispose(), laptop.dispose(), stranger.dispose()]);
      }
      await waitFor(() => server.herald.notifications.live.watched === 0, 2_000, 'watchers released');
    });

    it('delivers notificationStateChanged over SSE (EventSource) as well', async () => {
      const user = 'sup_rs_sse';
      const token = server.token(user, 'supplier');
      const event = await publish(server, { type: 'inventory_alert', userId: user, data: examplePayload('inventory_alert', { supplierId: user }) });
      const sse = sseSubscribe(server.graphqlUrl, token, CHANGED);
      try {
        const [initial] = await sse.waitForCount(1);
        expect(initial!.payload.data.notificationStateChanged.unreadCount).toBe(1);
        await gqlOk(server, MARK_READ, { ids: [event.id] }, token);
        const [, changed] = await sse.waitForCount(2, 1_000);
        expect(changed!.payload.data.notificationStateChanged).toMatchObject({ unreadCount: 0, readThrough: null });
      } finally {
        sse.close();
      }
    });
  });
}

for (const backend of BACKENDS) suite(backend);

describe('notification read state across a restart (SQLite file)', () => {
  it('keeps marks and positions after the server stops and starts on the same data', async () => {
    let server = await startServer();
    const dataDir = server.dataDir;
    try {
      const token = server.token('sup_rs_restart', 'supplier');
      const events = [];
      for (let i = 0; i < 3; i++) {
        events.push(
          await publish(server, { type: 'inventory_alert', userId: 'sup_rs_restart', data: examplePayload('inventory_alert', { supplierId: 'sup_rs_restart', sku: `SKU-${i}` }) }),
        );
      }
      await gqlOk(server, MARK_ALL, { through: events[0]!.cursor }, token);
      await gqlOk(server, ARCHIVE, { ids: [events[2]!.id] }, token);
      const before = (await gqlOk(server, STATE, undefined, token)).notificationState;
      expect(before).toMatchObject({ unreadCount: 1, readThrough: events[0]!.cursor });
      await server.close();

      server = await startServer({ dataDir });
      const after = (await gqlOk(server, STATE, undefined, server.token('sup_rs_restart', 'supplier'))).notificationState;
      expect(after).toEqual(before);
      const listed = (await gqlOk(server, LIST, { includeArchived: true }, token)).notifications.edges.map((e: any) => [e.node.read, e.node.archived]);
      expect(listed).toEqual([
        [false, true],
        [false, false],
        [true, false],
      ]);
    } finally {
      await server.close({ removeData: true });
    }
  });
});

describe.skipIf(mongoSkip !== undefined)('notification read state between two instances on one MongoDB', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const env = BACKENDS[1]!.env(uniqueDbName());
    a = await startServer({ env });
    b = await startServer({ env });
  });
  afterAll(async () => {
    await a?.close({ removeData: true });
    await b?.close({ removeData: true });
    if (!mongoSkip) await (mongo as TestMongo).stop();
  });

  it("delivers a change made on one instance to the user's subscription on the other within a second", async () => {
    const user = 'cus_rs_cluster';
    const event = await orderFor(a, user, 1);
    const ws = wsClient(b.wsUrl, b.token(user, 'customer'));
    try {
      const changes = ws.subscribe(CHANGED);
      await waitFor(() => changes.items.length === 1, 5_000, 'initial state');
      expect(changes.items[0].data.notificationStateChanged.unreadCount).toBe(1);
      const started = Date.now();
      await gqlOk(a, MARK_READ, { ids: [event.id] }, a.token(user, 'customer'));
      const [, changed] = await changes.waitForCount(2, 2_000);
      const took = Date.now() - started;
      expect(changed.data.notificationStateChanged.unreadCount).toBe(0);
      expect(took).toBeLessThan(1_500);
    } finally {
      await ws.dispose();
    }
  });
});
