/**
 * A table of hostile inputs across Herald's entry points (HTTP GraphQL, tokens, ids and cursors, authorization,
 * SSE requests, graphql-ws frames). Each row names the input and the exact answer expected (HTTP status and
 * `extensions.code`, or a WebSocket close code / per-operation error), and after every row a normal client must
 * still be served. Grows toward the operations issue's 150 rows; see hostile-http / hostile-live for the heavier
 * cases (memory, floods, stalls).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { startServer, TEST_JWT_SECRET, type TestServer } from '../utils/server.js';
import { rawSocket } from '../utils/clients.js';
import { waitFor } from '../utils/deferred.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close({ removeData: true });
});

/** A normal client is still served (after every hostile row). */
async function stillServes() {
  const { status, body } = await server.gql('{ viewer { userId role } }', {}, server.token('cus_normal', 'customer'));
  expect(status).toBe(200);
  expect(body.data.viewer.userId).toBe('cus_normal');
}

const sign = (payload: object, options: jwt.SignOptions = {}, secret = TEST_JWT_SECRET) => jwt.sign(payload, secret, { algorithm: 'HS256', expiresIn: '1h', ...options });
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

async function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; code: string | undefined; text: string }> {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token('cus_h', 'customer')}`, ...headers },
    body,
  });
  const text = await response.text();
  let code: string | undefined;
  try {
    code = JSON.parse(text).errors?.[0]?.extensions?.code;
  } catch {
    code = undefined;
  }
  return { status: response.status, code, text };
}

describe('hostile HTTP bodies', () => {
  const rows: Array<[string, string, number, string | undefined]> = [
    ['truncated JSON', '{"query": "{ viewer { userId } }"', 400, undefined],
    ['JSON array of garbage', '[1, 2, 3]', 400, undefined],
    ['a bare string', '"{ viewer { userId } }"', 400, undefined],
    ['null', 'null', 400, undefined],
    ['query is a number', '{"query": 42}', 400, undefined],
    ['query is an object', '{"query": {"$gt": ""}}', 400, undefined],
    ['empty query', '{"query": ""}', 400, undefined],
    ['variables is a string', '{"query": "query($id: ID!) { event(id: $id) { id } }", "variables": "x"}', 400, undefined],
    ['variables is an array', '{"query": "query($id: ID!) { event(id: $id) { id } }", "variables": [1]}', 400, undefined],
    ['missing required variable', '{"query": "query($id: ID!) { event(id: $id) { id } }"}', 400, 'BAD_USER_INPUT'],
    ['variable of the wrong type', '{"query": "query($n: Int) { events(first: $n) { edges { node { id } } } }", "variables": {"n": "many"}}', 400, 'BAD_USER_INPUT'],
    ['syntax error', '{"query": "{ viewer { userId "}', 400, 'GRAPHQL_PARSE_FAILED'],
    ['unknown field', '{"query": "{ viewer { password } }"}', 400, 'GRAPHQL_VALIDATION_FAILED'],
    ['unknown operation name', '{"query": "query A { viewer { userId } }", "operationName": "B"}', 400, undefined],
    ['two anonymous operations', '{"query": "{ viewer { userId } } { viewer { role } }"}', 400, 'OPERATION_RESOLUTION_FAILURE'],
    ['depth bomb', JSON.stringify({ query: `{ events { edges { node { ${'... on Event { '.repeat(20)} id ${'}'.repeat(20)} } } } }` }), 400, 'QUERY_TOO_COMPLEX'],
    ['alias bomb', JSON.stringify({ query: `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: viewer { userId }`).join(' ')} }` }), 400, 'QUERY_TOO_COMPLEX'],
    ['directive bomb', JSON.stringify({ query: `{ viewer ${'@include(if: true) '.repeat(50)} { userId } }` }), 400, 'QUERY_TOO_COMPLEX'],
    ['__proto__ in variables', '{"query": "mutation($i: PublishEventInput!) { publishEvent(input: $i) { id } }", "variables": {"i": {"__proto__": {"admin": true}, "type": "ORDER_CREATED", "source": "x", "data": {}}}}', 400, 'BAD_USER_INPUT'],
    ['mutation by a customer', '{"query": "mutation { closeUserSessions(userId: \\"x\\") }"}', 403, 'FORBIDDEN'],
  ];
  it.each(rows)('%s', async (_name, body, status, code) => {
    const answer = await post(body);
    expect(answer.status, answer.text).toBe(status);
    if (code) expect(answer.code, answer.text).toBe(code);
    expect(answer.text).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
    await stillServes();
  });
});

describe('hostile tokens', () => {
  const now = Math.floor(Date.now() / 1000);
  const rows: Array<[string, () => string, string]> = [
    ['alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'adm', role: 'admin', exp: now + 3600 })}.`, 'TOKEN_INVALID'],
    ['forged signature', () => sign({ role: 'admin' }, { subject: 'adm' }, 'another-secret-that-is-long-enough-0123456789'), 'TOKEN_INVALID'],
    ['signature stripped', () => sign({ role: 'admin' }, { subject: 'adm' }).split('.').slice(0, 2).join('.') + '.', 'TOKEN_INVALID'],
    ['payload swapped under a valid signature', () => { const [h, , s] = sign({ role: 'customer' }, { subject: 'c' }).split('.'); return `${h}.${b64({ sub: 'adm', role: 'admin', exp: now + 3600 })}.${s}`; }, 'TOKEN_INVALID'],
    ['expired', () => jwt.sign({ role: 'customer', sub: 'c', iat: now - 100, exp: now - 10 }, TEST_JWT_SECRET, { algorithm: 'HS256' }), 'TOKEN_EXPIRED'],
    ['not valid yet', () => sign({ role: 'customer' }, { subject: 'c', notBefore: 3600 }), 'TOKEN_INVALID'],
    ['no sub', () => sign({ role: 'customer' }), 'TOKEN_INVALID'],
    ['empty sub', () => sign({ role: 'customer', sub: '' }), 'TOKEN_INVALID'],
    ['sub of 10,000 characters', () => sign({ role: 'customer' }, { subject: 'x'.repeat(10_000) }), 'TOKEN_INVALID'],
    ['no exp', () => jwt.sign({ role: 'customer' }, TEST_JWT_SECRET, { algorithm: 'HS256', subject: 'c' }), 'TOKEN_INVALID'],
    ['lives for a year', () => sign({ role: 'customer' }, { subject: 'c', expiresIn: '365d' }), 'TOKEN_INVALID'],
    ['garbage', () => 'not.a.jwt', 'TOKEN_INVALID'],
    ['three dots of nothing', () => '...', 'TOKEN_INVALID'],
    ['base64 of binary', () => `${Buffer.from([0xff, 0xfe, 0x00]).toString('base64url')}.e30.e30`, 'TOKEN_INVALID'],
  ];
  it.each(rows)('%s: 401 %s', async (_name, token, code) => {
    const answer = await post('{"query": "{ viewer { userId } }"}', { authorization: `Bearer ${token()}` });
    expect(answer.status, answer.text).toBe(401);
    expect(answer.code, answer.text).toBe(code);
    await stillServes();
  });

  it.each([
    ['an unknown role', () => sign({ role: 'root' }, { subject: 'c' })],
    ['a role of the wrong type', () => sign({ role: ['admin'] }, { subject: 'c' })],
  ])('%s: 403 FORBIDDEN', async (_name, token) => {
    const answer = await post('{"query": "{ viewer { userId } }"}', { authorization: `Bearer ${token()}` });
    expect(answer.status).toBe(403);
    expect(answer.code).toBe('FORBIDDEN');
    await stillServes();
  });

  it.each([
    ['no Authorization header', {}, 'UNAUTHENTICATED'],
    ['Basic instead of Bearer', { authorization: 'Basic YWRtaW46YWRtaW4=' }, 'TOKEN_INVALID'],
    ['Bearer with nothing after it', { authorization: 'Bearer ' }, 'TOKEN_INVALID'],
    ['two tokens', { authorization: `Bearer a.b.c Bearer d.e.f` }, 'TOKEN_INVALID'],
  ])('%s: 401 %s', async (_name, headers, code) => {
    const response = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"query": "{ viewer { userId } }"}' });
    expect(response.status).toBe(401);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe(code);
    await stillServes();
  });
});

describe('hostile ids and cursors', () => {
  const ids = ['{"$gt": ""}', "' OR 1=1 --", '../../etc/passwd', 'evt_'.padEnd(5000, 'x'), '\u0000', '%00', '${jndi:ldap://x}', 'evt_\uFFFF'];
  it.each(ids.map((id) => [id.slice(0, 30), id]))('event(id: %j) is null, not an error or a leak', async (_label, id) => {
    const { status, body } = await server.gql('query($id: ID!) { event(id: $id) { id } }', { id }, server.token('adm_ids', 'admin'));
    expect(status).toBe(200);
    expect(body.data?.event ?? null).toBeNull();
    await stillServes();
  });

  const cursors = ['abc', '-1', '1.5', '1e9', '0x10', '１２', ' 1', '9'.repeat(40), '{"$gt":0}', ''.padEnd(300, '7')];
  it.each(cursors.map((c) => [c.slice(0, 20), c]))('events(after: %j): BAD_USER_INPUT naming `after`', async (_label, after) => {
    const { body } = await server.gql('query($a: String) { events(first: 5, after: $a) { edges { node { id } } } }', { a: after }, server.token('adm_cur', 'admin'));
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(body.errors?.[0]?.extensions?.field).toBe('after');
    await stillServes();
  });

  it.each(['abc', '-1', '1.5', '{"$gt":0}'])('SSE Last-Event-ID %j: BAD_USER_INPUT naming Last-Event-ID', async (lastEventId) => {
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', 'last-event-id': lastEventId, authorization: `Bearer ${server.token('cus_leid', 'customer')}` },
      body: JSON.stringify({ query: 'subscription { events { id } }' }),
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain('BAD_USER_INPUT');
    expect(text).toContain('Last-Event-ID');
    await stillServes();
  });
});

describe('hostile authorization', () => {
  const customer = () => server.token('cus_authz', 'customer');
  const rows: Array<[string, string]> = [
    ['connectionStats', '{ connectionStats { total } }'],
    ['closeUserSessions', 'mutation { closeUserSessions(userId: "cus_other") }'],
    ['revokeSessions', 'mutation { revokeSessions(userId: "cus_other") }'],
    ['publishEvent', 'mutation { publishEvent(input: { type: ORDER_CREATED, source: "x", data: {} }) { id } }'],
    ['publishEvents', 'mutation { publishEvents(inputs: []) { id } }'],
  ];
  it.each(rows)('a customer calling %s: FORBIDDEN', async (_name, query) => {
    const { body } = await server.gql(query, {}, customer());
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await stillServes();
  });

  it("a customer filtering the log by another user's id sees none of their events", async () => {
    const service = server.token('svc_authz', 'service');
    await server.gql('mutation { publishEvent(input: { type: PAYMENT_FAILED, userId: "cus_victim", source: "pay", data: { paymentId: "p1", orderId: "o1", amount: 1, currency: "EUR", reason: "x" } }) { id } }', {}, service);
    const { body } = await server.gql('{ events(filter: { userId: "cus_victim" }) { edges { node { id userId } } } }', {}, customer());
    expect(body.data?.events?.edges ?? []).toEqual([]);
    await stillServes();
  });

  it('a customer tracking a delivery that is not theirs: FORBIDDEN, as for one that does not exist', async () => {
    const ws = await rawSocket(server.wsUrl, customer());
    ws.send({ id: '1', type: 'subscribe', payload: { query: 'subscription { deliveryTracking(deliveryId: "dlv_someone_elses") { id } }' } });
    await waitFor(() => ws.frames.some((f) => f.id === '1' && (f.type === 'error' || f.type === 'next')), 5000, 'an answer');
    const answer = ws.frames.find((f) => f.id === '1')!;
    expect(JSON.stringify(answer)).toContain('FORBIDDEN');
    ws.socket.close();
    await stillServes();
  });
});

describe('hostile graphql-ws frames', () => {
  const open = () => new WebSocket(server.wsUrl, 'graphql-transport-ws');
  const closeOf = (socket: WebSocket) => new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  const opened = (socket: WebSocket) => new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const init = (socket: WebSocket, token = server.token('cus_ws', 'customer')) => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));

  const beforeInit: Array<[string, (s: WebSocket) => void, number]> = [
    ['subscribe before connection_init', (s) => s.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ viewer { userId } }' } })), 4401],
    ['not JSON', (s) => s.send('{{{'), 4400],
    ['JSON without a type', (s) => s.send('{"id":"1"}'), 4400],
    ['an unknown message type', (s) => s.send('{"type":"hack"}'), 4400],
    ['a server-only message (next)', (s) => s.send('{"id":"1","type":"next","payload":{}}'), 4400],
    ['connection_init with a number for a payload', (s) => s.send('{"type":"connection_init","payload":5}'), 4400],
    ['connection_init without a token', (s) => s.send('{"type":"connection_init","payload":{}}'), 4401],
    ['connection_init with a forged token', (s) => s.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${sign({ role: 'admin' }, { subject: 'a' }, 'wrong-secret-that-is-long-enough-0123456789')}` } })), 4401],
    ['a frame over the 1 MiB limit', (s) => s.send('x'.repeat(1024 * 1024 + 10)), 1009],
  ];
  it.each(beforeInit)('%s: closed with %i', async (_name, act, code) => {
    const socket = open();
    await opened(socket);
    const closed = closeOf(socket);
    act(socket);
    expect(await closed).toBe(code);
    await stillServes();
  });

  it('connection_init twice: 4429', async () => {
    const socket = open();
    await opened(socket);
    const closed = closeOf(socket);
    init(socket);
    init(socket);
    expect(await closed).toBe(4429);
    await stillServes();
  });

  it('two subscriptions with one id: 4409', async () => {
    const ws = await rawSocket(server.wsUrl, server.token('cus_dup', 'customer'));
    ws.send({ id: 'same', type: 'subscribe', payload: { query: 'subscription { events { id } }' } });
    ws.send({ id: 'same', type: 'subscribe', payload: { query: 'subscription { events { id } }' } });
    expect((await ws.closed).code).toBe(4409);
    await stillServes();
  });

  const perOperation: Array<[string, object, string]> = [
    ['a syntax error', { query: 'subscription { events { id ' }, 'GRAPHQL_PARSE_FAILED'],
    ['an unknown field', { query: 'subscription { events { secret } }' }, 'GRAPHQL_VALIDATION_FAILED'],
    ['a forbidden type', { query: 'subscription { events(types: [SYSTEM_ALERT]) { id } }' }, 'FORBIDDEN'],
    ['a garbage cursor', { query: 'subscription($a: String) { events(after: $a) { id } }', variables: { a: '{"$gt":0}' } }, 'BAD_USER_INPUT'],
    ['a cursor from the future', { query: 'subscription($a: String) { events(after: $a) { id } }', variables: { a: '999999999' } }, 'CURSOR_UNKNOWN'],
    ['an alias bomb', { query: `subscription { ${Array.from({ length: 30 }, (_, i) => `a${i}: events { id }`).join(' ')} }` }, 'QUERY_TOO_COMPLEX'],
  ];
  it.each(perOperation)('%s: an error for that operation only, the socket stays', async (_name, payload, code) => {
    const ws = await rawSocket(server.wsUrl, server.token('cus_op', 'customer'));
    ws.send({ id: 'bad', type: 'subscribe', payload });
    await waitFor(() => ws.frames.some((f) => f.id === 'bad'), 5000, 'the answer');
    expect(JSON.stringify(ws.frames.find((f) => f.id === 'bad'))).toContain(code);
    ws.send({ id: 'ok', type: 'subscribe', payload: { query: '{ viewer { userId } }' } });
    await waitFor(() => ws.frames.some((f) => f.id === 'ok' && f.type === 'next'), 5000, 'the next operation on the same socket');
    expect(ws.socket.readyState).toBe(WebSocket.OPEN);
    ws.socket.close();
    await stillServes();
  });

  it('complete for an id that does not exist is ignored', async () => {
    const ws = await rawSocket(server.wsUrl, server.token('cus_cmp', 'customer'));
    ws.send({ id: 'ghost', type: 'complete' });
    ws.send({ id: 'ok', type: 'subscribe', payload: { query: '{ viewer { userId } }' } });
    await waitFor(() => ws.frames.some((f) => f.id === 'ok' && f.type === 'next'), 5000, 'the next operation');
    ws.socket.close();
  });
});

describe('hostile graphql-ws frames: binary, encodings, shapes and order', () => {
  const open = () => new WebSocket(server.wsUrl, 'graphql-transport-ws');
  const settle = (socket: WebSocket) =>
    new Promise<{ code: number; frames: any[] }>((resolve) => {
      const frames: any[] = [];
      socket.on('message', (data) => frames.push(JSON.parse(String(data))));
      socket.once('close', (code) => resolve({ code, frames }));
    });
  const opened = (socket: WebSocket) => new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));

  // [name, frame to send on a fresh socket (before connection_init), close code]
  const rows: Array<[string, string | Buffer, boolean, number]> = [
    ['a binary frame of random bytes', Buffer.from([0x00, 0x9f, 0x92, 0x96, 0xff, 0x10]), true, 4400],
    ['a binary frame holding invalid UTF-8 JSON', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), true, 4400],
    ['a text frame holding invalid UTF-8', Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), false, 1007],
    ['a text frame with an overlong UTF-8 encoding', Buffer.from([0x22, 0xc0, 0xaf, 0x22]), false, 1007],
    ['a text frame with a lone surrogate encoded', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), false, 1007],
    ['a JSON array', '[]', false, 4400],
    ['JSON null', 'null', false, 4400],
    ['a JSON number', '42', false, 4400],
    ['an empty frame', '', false, 4400],
    ['a type that is not a string', '{"type":1}', false, 4400],
    ['connection_init with a string payload', '{"type":"connection_init","payload":"Bearer x"}', false, 4400],
    ['connection_init with an array payload', '{"type":"connection_init","payload":[1]}', false, 4400],
    ['connection_init with a numeric authorization', '{"type":"connection_init","payload":{"authorization":42}}', false, 4401],
    ['connection_init with an authorization object ({"$gt": ""})', '{"type":"connection_init","payload":{"authorization":{"$gt":""}}}', false, 4401],
    ['connection_init with a token but no Bearer', `{"type":"connection_init","payload":{"authorization":"abc.def.ghi"}}`, false, 4401],
    ['a client-sent connection_ack', '{"type":"connection_ack"}', false, 4400],
    ['a client-sent error', '{"id":"1","type":"error","payload":[]}', false, 4400],
    ['subscribe without an id', '{"type":"subscribe","payload":{"query":"{ viewer { userId } }"}}', false, 4400],
    ['subscribe with a numeric id', '{"id":7,"type":"subscribe","payload":{"query":"{ viewer { userId } }"}}', false, 4400],
    ['subscribe with an empty id', '{"id":"","type":"subscribe","payload":{"query":"{ viewer { userId } }"}}', false, 4400],
    ['subscribe with no payload', '{"id":"1","type":"subscribe"}', false, 4400],
    ['subscribe with a numeric query', '{"id":"1","type":"subscribe","payload":{"query":42}}', false, 4400],
    ['complete without an id', '{"type":"complete"}', false, 4400],
    ['a deeply nested JSON frame', `${'['.repeat(5000)}${']'.repeat(5000)}`, false, 4400],
  ];
  it.each(rows)('%s: closed with %i', async (_name, frame, binary, code) => {
    const socket = open();
    await opened(socket);
    const done = settle(socket);
    socket.send(frame, { binary });
    expect((await done).code).toBe(code);
    await stillServes();
  });

  it.each([
    ['ping', '{"type":"ping"}', 'pong'],
    ['ping with a payload', '{"type":"ping","payload":{"x":1}}', 'pong'],
  ])('%s before connection_init is answered with a pong, and the socket stays', async (_name, frame, type) => {
    const socket = open();
    await opened(socket);
    const frames: any[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    socket.send(frame);
    await waitFor(() => frames.some((f) => f.type === type), 5000, type);
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close();
    await stillServes();
  });

  it.each([
    ['a pong', '{"type":"pong"}'],
    ['complete for an unknown id', '{"id":"ghost","type":"complete"}'],
  ])('%s before connection_init is ignored: init still succeeds on that socket', async (_name, frame) => {
    const socket = open();
    await opened(socket);
    const frames: any[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    socket.send(frame);
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${server.token('cus_order', 'customer')}` } }));
    await waitFor(() => frames.some((f) => f.type === 'connection_ack'), 5000, 'connection_ack');
    socket.close();
    await stillServes();
  });

  it('no subprotocol: 4406', async () => {
    const socket = new WebSocket(server.wsUrl);
    await opened(socket);
    expect((await settle(socket)).code).toBe(4406);
    await stillServes();
  });

  it('an upgrade to another path: HTTP 400, no socket', async () => {
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(server.wsUrl.replace('/graphql', '/admin'), 'graphql-transport-ws');
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
      socket.once('error', () => {});
    });
    expect(status).toBe(400);
    await stillServes();
  });

  it('a silent socket that never sends connection_init: 4408 after CONNECTION_INIT_TIMEOUT_MS', async () => {
    const quick = await startServer({ env: { CONNECTION_INIT_TIMEOUT_MS: '300' } });
    try {
      const socket = new WebSocket(quick.wsUrl, 'graphql-transport-ws');
      await opened(socket);
      expect((await settle(socket)).code).toBe(4408);
    } finally {
      await quick.close({ removeData: true });
    }
    await stillServes();
  });

  const afterInit: Array<[string, object, string]> = [
    ['an operation name that is not in the document', { query: 'query A { viewer { userId } }', operationName: 'B' }, 'BAD_REQUEST'],
    ['two anonymous operations', { query: '{ viewer { userId } } { viewer { role } }' }, 'GRAPHQL_VALIDATION_FAILED'],
    ['variables of the wrong type', { query: 'subscription($t: [EventType!]) { events(types: $t) { id } }', variables: { t: 'ORDER_CREATED; DROP' } }, 'BAD_USER_INPUT'],
    ['an injection-shaped type filter', { query: 'subscription($t: [EventType!]) { events(types: $t) { id } }', variables: { t: [{ $gt: '' }] } }, 'BAD_USER_INPUT'],
    ['a document over MAX_DOCUMENT_BYTES', { query: `{ viewer { userId } } # ${'x'.repeat(110 * 1024)}` }, 'REQUEST_TOO_LARGE'],
    ['a depth bomb', { query: `subscription { events { ${'... on Event { '.repeat(20)} id ${'}'.repeat(20)} } }` }, 'QUERY_TOO_COMPLEX'],
    ['a directive bomb', { query: `subscription { events ${'@include(if: true) '.repeat(50)} { id } }` }, 'QUERY_TOO_COMPLEX'],
    ['a mutation by a customer', { query: 'mutation { revokeSessions(userId: "cus_x") }' }, 'FORBIDDEN'],
    ['deliveryTracking with an id shaped like {"$gt": ""}', { query: 'subscription($d: ID!) { deliveryTracking(deliveryId: $d) { id } }', variables: { d: '{"$gt": ""}' } }, 'FORBIDDEN'],
    ['a cursor of 40 nines', { query: 'subscription($a: String) { events(after: $a) { id } }', variables: { a: '9'.repeat(40) } }, 'BAD_USER_INPUT'],
    ['a negative cursor', { query: 'subscription($a: String) { events(after: $a) { id } }', variables: { a: '-5' } }, 'BAD_USER_INPUT'],
  ];
  // graphql-ws: `error` for what fails before execution, `next` with `errors` (then `complete`) for what fails in it.
  const errorsOf = (answer: any) => (answer.type === 'error' ? answer.payload : answer.payload.errors);
  it.each(afterInit)('after init, %s: an error for that operation only, the socket stays', async (_name, payload, code) => {
    const ws = await rawSocket(server.wsUrl, server.token('cus_op2', 'customer'));
    ws.send({ id: 'bad', type: 'subscribe', payload });
    await waitFor(() => ws.frames.some((f) => f.id === 'bad'), 5000, 'the answer');
    const answer = ws.frames.find((f) => f.id === 'bad');
    expect(errorsOf(answer)?.[0]?.extensions?.code, JSON.stringify(answer)).toBe(code);
    if (answer.type === 'next') expect(answer.payload.data ?? null, 'no data beside the error').toBeNull();
    ws.send({ id: 'ok', type: 'subscribe', payload: { query: '{ viewer { userId } }' } });
    await waitFor(() => ws.frames.some((f) => f.id === 'ok' && f.type === 'next'), 5000, 'the next operation on the same socket');
    ws.socket.close();
    await stillServes();
  });
});

describe('hostile HTTP requests: methods, media types, encodings', () => {
  const token = () => server.token('cus_http2', 'customer');
  const rows: Array<[string, RequestInit, number, string | undefined]> = [
    ['a mutation over GET', { method: 'GET' }, 405, undefined],
    ['PUT', { method: 'PUT', body: '{"query":"{ viewer { userId } }"}', headers: { 'content-type': 'application/json' } }, 405, undefined],
    ['DELETE', { method: 'DELETE' }, 405, undefined],
    ['text/plain body', { method: 'POST', body: '{"query":"{ viewer { userId } }"}', headers: { 'content-type': 'text/plain' } }, 415, undefined],
    ['a batch of operations (batching is off)', { method: 'POST', body: '[{"query":"{ viewer { userId } }"},{"query":"{ viewer { role } }"}]', headers: { 'content-type': 'application/json' } }, 400, undefined],
    ['invalid UTF-8 in the body', { method: 'POST', body: Buffer.from([0x7b, 0x22, 0x71, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), headers: { 'content-type': 'application/json' } }, 400, undefined],
    ['a body of 2 MiB', { method: 'POST', body: JSON.stringify({ query: '{ viewer { userId } }', pad: 'x'.repeat(2 * 1024 * 1024) }), headers: { 'content-type': 'application/json' } }, 413, 'REQUEST_TOO_LARGE'],
    ['extensions that are a string', { method: 'POST', body: '{"query":"{ viewer { userId } }","extensions":"x"}', headers: { 'content-type': 'application/json' } }, 400, undefined],
    ['an operationName that is a number', { method: 'POST', body: '{"query":"{ viewer { userId } }","operationName":5}', headers: { 'content-type': 'application/json' } }, 400, undefined],
    ['a body nested 5,000 levels deep', { method: 'POST', body: `{"query":"{ viewer { userId } }","variables":{"x":${'['.repeat(5000)}${']'.repeat(5000)}}}`, headers: { 'content-type': 'application/json' } }, 200, undefined],
  ];
  it.each(rows)('%s: %i', async (_name, init, status, code) => {
    const url = init.method === 'GET' ? `${server.graphqlUrl}?query=${encodeURIComponent('mutation { revokeSessions(userId: "x") }')}` : server.graphqlUrl;
    const response = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token()}` } });
    const text = await response.text();
    expect(response.status, text).toBe(status);
    if (code) expect(JSON.parse(text).errors[0].extensions.code).toBe(code);
    expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
    await stillServes();
  });

  it('a chunked body without Content-Length: 411 LENGTH_REQUIRED', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}`, 'transfer-encoding': 'chunked' } });
      req.once('response', (res) => (res.resume(), resolve(res.statusCode!)));
      req.once('error', reject);
      req.write('{"query":');
    });
    expect(status).toBe(411);
    await stillServes();
  });
});

describe('hostile SSE requests', () => {
  const now = Math.floor(Date.now() / 1000);
  const get = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${server.graphqlUrl}?${new URLSearchParams(params)}`, { headers: { accept: 'text/event-stream', ...headers } });
  const query = 'subscription { events { id } }';
  const rows: Array<[string, () => Record<string, string>, number, string]> = [
    ['no token', () => ({ query }), 401, 'UNAUTHENTICATED'],
    ['an alg none access_token', () => ({ query, access_token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'adm', role: 'admin', exp: now + 3600 })}.` }), 401, 'TOKEN_INVALID'],
    ['a forged access_token', () => ({ query, access_token: sign({ role: 'admin' }, { subject: 'adm' }, 'another-secret-that-is-long-enough-0123456789') }), 401, 'TOKEN_INVALID'],
    ['an expired access_token', () => ({ query, access_token: jwt.sign({ role: 'customer', sub: 'c', iat: now - 100, exp: now - 10 }, TEST_JWT_SECRET, { algorithm: 'HS256' }) }), 401, 'TOKEN_EXPIRED'],
    ['a not-yet-valid access_token', () => ({ query, access_token: sign({ role: 'customer' }, { subject: 'c', notBefore: 3600 }) }), 401, 'TOKEN_INVALID'],
    ['variables that are not JSON', () => ({ query, variables: '{nope', access_token: server.token('cus_sse2', 'customer') }), 400, 'BAD_REQUEST'],
    ['variables that are an array', () => ({ query, variables: '[1]', access_token: server.token('cus_sse2', 'customer') }), 400, 'BAD_REQUEST'],
    ['no query', () => ({ access_token: server.token('cus_sse2', 'customer') }), 400, 'BAD_REQUEST'],
    ['a mutation over GET', () => ({ query: 'mutation { revokeSessions(userId: "x") }', access_token: server.token('cus_sse2', 'customer') }), 405, 'METHOD_NOT_ALLOWED'],
    ['a cursor from the future', () => ({ query: 'subscription($a: String) { events(after: $a) { id } }', variables: '{"a":"999999999"}', access_token: server.token('cus_sse2', 'customer') }), 409, 'CURSOR_UNKNOWN'],
  ];
  it.each(rows)('%s: %i %s', async (_name, params, status, code) => {
    const response = await get(params());
    const text = await response.text();
    expect(response.status, text).toBe(status);
    expect(text).toContain(code);
    await stillServes();
  });

  it.each(['999999999', '0x1', '1e3', '9'.repeat(40), '1;DROP TABLE events'])('Last-Event-ID %j on a GET stream: refused with a code, the stream never opens', async (lastEventId) => {
    const response = await get({ query, access_token: server.token('cus_leid2', 'customer') }, { 'last-event-id': lastEventId });
    const text = await response.text();
    expect([400, 409]).toContain(response.status);
    expect(text).toMatch(response.status === 409 ? /CURSOR_UNKNOWN/ : /BAD_USER_INPUT.*Last-Event-ID|Last-Event-ID.*BAD_USER_INPUT/s);
    await stillServes();
  });
});
