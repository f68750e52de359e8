import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient as createSseClient } from 'graphql-sse';
import { startServer, type TestServer } from '../utils/server.js';
import { sseSubscribe, type SseHandle } from '../utils/clients.js';
import { startTcpProxy } from '../utils/tcp-proxy.js';
import { EVENT_FIELDS, publish } from '../utils/publish.js';
import { sleep, waitFor } from '../utils/deferred.js';

const SUB = `subscription($types: [EventType!], $after: String) { events(types: $types, after: $after) { ${EVENT_FIELDS} } }`;

describe('live subscriptions over SSE', () => {
  let server: TestServer;
  const sources: SseHandle[] = [];
  const open = (...args: Parameters<typeof sseSubscribe>) => {
    const handle = sseSubscribe(...args);
    sources.push(handle);
    return handle;
  };

  beforeAll(async () => {
    server = await startServer({ env: { SSE_HEARTBEAT_MS: '1000' } });
  });
  afterAll(async () => {
    for (const s of sources) s.close();
    await server.close({ removeData: true });
  });

  it('streams a customer their events over EventSource, with the cursor as the SSE id', async () => {
    const sse = open(server.graphqlUrl, server.token('cus_sse1', 'customer'), SUB);
    await sse.opened;
    await sleep(50);
    const mine = await publish(server, { type: 'order_created', userId: 'cus_sse1' });
    await publish(server, { type: 'order_created', userId: 'cus_someone_else' });
    const [first] = await sse.waitForCount(1);
    await sleep(100);
    expect(sse.items).toHaveLength(1);
    expect(first!.id).toBe(mine.cursor);
    expect(first!.payload.data.events).toMatchObject({ id: mine.id, type: 'ORDER_CREATED', userId: 'cus_sse1' });
  });

  it('answers with the headers proxies need and a heartbeat on idle streams', async () => {
    const controller = new AbortController();
    const url = new URL(server.graphqlUrl);
    url.searchParams.set('query', SUB);
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${server.token('cus_hb', 'customer')}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.headers.get('cache-control')).toMatch(/no-cache/);
    const reader = response.body!.getReader();
    let text = '';
    const deadline = Date.now() + 3000;
    while (!text.includes(': heartbeat') && Date.now() < deadline) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain(': heartbeat');
  });

  it('resumes after a dropped connection with exactly the events published while away (Last-Event-ID)', async () => {
    const proxy = await startTcpProxy(Number(new URL(server.url).port));
    try {
      const viaProxy = server.graphqlUrl.replace(/:\d+\//, `:${proxy.port}/`);
      const sse = open(viaProxy, server.token('cus_resume', 'customer'), SUB);
      await sse.opened;
      await sleep(50);
      const before = await publish(server, { type: 'order_created', userId: 'cus_resume' });
      await sse.waitForCount(1);

      proxy.cut(); // the network drops; EventSource starts reconnecting
      const away = [
        await publish(server, { type: 'order_confirmed', userId: 'cus_resume' }),
        await publish(server, { type: 'order_ready', userId: 'cus_resume' }),
        await publish(server, { type: 'order_created', userId: 'cus_other' }),
      ];
      await sleep(200);
      proxy.restore();

      await sse.waitForCount(3, 15_000);
      const after = await publish(server, { type: 'order_cancelled', userId: 'cus_resume' });
      await sse.waitForCount(4);
      await sleep(150);
      expect(sse.items.map((i) => i.payload.data.events.id)).toEqual([before.id, away[0]!.id, away[1]!.id, after.id]);
      expect(sse.items.map((i) => i.id)).toEqual([before.cursor, away[0]!.cursor, away[1]!.cursor, after.cursor]);
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it('replays from an explicit Last-Event-ID header on a new stream', async () => {
    const first = await publish(server, { type: 'payment_initiated', userId: 'cus_lei' });
    const second = await publish(server, { type: 'payment_completed', userId: 'cus_lei' });
    const sse = open(server.graphqlUrl, server.token('cus_lei', 'customer'), SUB, undefined, { lastEventId: first.cursor });
    const items = await sse.waitForCount(1);
    await sleep(100);
    expect(items.map((i) => i.payload.data.events.id)).toEqual([second.id]);
  });

  it('refuses a bad token with 401 before streaming', async () => {
    const url = new URL(server.graphqlUrl);
    url.searchParams.set('query', SUB);
    url.searchParams.set('access_token', 'not-a-jwt');
    const response = await fetch(url, { headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(401);
    const text = await response.text();
    expect(text).toContain('TOKEN_INVALID');
    expect(text).not.toContain('not-a-jwt');
  });

  it('works with graphql-sse\'s client in distinct-connections mode, counted as SSE connections', async () => {
    const client = createSseClient({
      url: server.graphqlUrl,
      headers: { authorization: `Bearer ${server.token('dp_sse', 'delivery_partner')}` },
      retryAttempts: 0,
    });
    const received: any[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const stop = client.subscribe(
        { query: SUB, variables: { types: ['EARNING_RECORDED'] } },
        {
          next: (value) => {
            received.push(value);
            if (received.length === 2) {
              stop();
              resolve();
            }
          },
          error: reject,
          complete: () => resolve(),
        },
      );
    });
    const admin = server.token('adm_sse', 'admin');
    await waitFor(async () => {
      const { body } = await server.gql('{ connectionStats { byTransport { transport count } } }', {}, admin);
      return (body.data.connectionStats.byTransport.find((t: any) => t.transport === 'SSE')?.count ?? 0) >= 1;
    });
    await publish(server, { type: 'earning_recorded', userId: 'dp_sse' });
    await publish(server, { type: 'earning_recorded', roles: ['delivery_partner'] });
    await done;
    client.dispose();
    expect(received.map((r) => r.data.events.type)).toEqual(['EARNING_RECORDED', 'EARNING_RECORDED']);
  });

  describe('request contract', () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${server.token('cus_req', 'customer')}`, ...headers },
        body,
      });
    const codeOf = async (response: Response) => ((await response.json()) as any).errors[0].extensions.code;

    it('answers a malformed body, bad variables or a missing query with 400 BAD_REQUEST, naming the part', async () => {
      const broken = await post('{"query": ');
      expect(broken.status).toBe(400);
      expect(await codeOf(broken)).toBe('BAD_REQUEST');
      const variables = await post(JSON.stringify({ query: SUB, variables: [1] }));
      expect(variables.status).toBe(400);
      expect(((await variables.json()) as any).errors[0].message).toMatch(/variables/);
      const missing = await post(JSON.stringify({ variables: {} }));
      expect(missing.status).toBe(400);
      expect(((await missing.json()) as any).errors[0].message).toMatch(/query/);
      const url = new URL(server.graphqlUrl);
      url.searchParams.set('query', SUB);
      url.searchParams.set('variables', '{not json');
      url.searchParams.set('access_token', server.token('cus_req', 'customer'));
      const get = await fetch(url, { headers: { accept: 'text/event-stream' } });
      expect(get.status).toBe(400);
      expect(((await get.json()) as any).errors[0].message).toMatch(/variables: not valid JSON/);
    });

    it('refuses a body that is not JSON with 415 and a mutation over GET with 405', async () => {
      const form = await post('query=subscription', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(form.status).toBe(415);
      expect(await codeOf(form)).toBe('UNSUPPORTED_MEDIA_TYPE');
      const url = new URL(server.graphqlUrl);
      url.searchParams.set('query', 'mutation { closeUserSessions(userId: "x") }');
      url.searchParams.set('access_token', server.token('adm_get', 'admin'));
      const response = await fetch(url, { headers: { accept: 'text/event-stream' } });
      expect(response.status).toBe(405);
      expect(await response.text()).toContain('METHOD_NOT_ALLOWED');
    });

    it('answers a query sent as SSE with one next event and complete, and a syntax error with 400', async () => {
      const ok = await post(JSON.stringify({ query: '{ viewer { userId role } }' }));
      expect(ok.status).toBe(200);
      const text = await ok.text();
      expect(text).toContain('event: next\ndata: {"data":{"viewer":{"userId":"cus_req","role":"CUSTOMER"}}}');
      expect(text).toMatch(/event: complete\ndata:\n\n$/);
      const bad = await post(JSON.stringify({ query: 'subscription { events { id ' }));
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('GRAPHQL_PARSE_FAILED');
    });

    it('allows cross-origin readers (bearer tokens, no cookies)', async () => {
      const controller = new AbortController();
      const response = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', origin: 'https://shop.example', authorization: `Bearer ${server.token('cus_cors', 'customer')}` },
        body: JSON.stringify({ query: SUB }),
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      controller.abort();
    });
  });
});
