/** The HTTP sender against a real receiver on 127.0.0.1 (DNS answers stubbed; nothing leaves this machine). */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpSender } from '../../src/webhooks/sender.js';
import type { LookupFn } from '../../src/webhooks/ssrf-guard.js';
import { startReceiver, type Receiver } from '../utils/receiver.js';

const headers = { 'content-type': 'application/json', 'webhook-id': 'evt_1' };
const body = '{"type":"order_created"}';

describe('createHttpSender', () => {
  let receiver: Receiver;
  const open = { allowHttp: true, allowPrivateNetworks: true };
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  it('POSTs the body and headers exactly and reports a 2xx as success', async () => {
    receiver.on('/ok', { status: 201, body: 'thanks' });
    const sender = createHttpSender({ policy: open });
    const result = await sender.send({ url: receiver.url('/ok'), headers, body });
    sender.close();
    expect(result).toMatchObject({ ok: true, httpStatus: 201, errorKind: null, error: null, responseBody: 'thanks' });
    const [request] = receiver.received('/ok');
    expect(request).toMatchObject({ method: 'POST', body });
    expect(request!.headers).toMatchObject({ 'webhook-id': 'evt_1', 'content-length': String(body.length) });
  });

  it('gives up on a receiver that never answers after the total timeout', async () => {
    receiver.on('/hang', 'hang');
    const sender = createHttpSender({ policy: open, timeoutMs: 300 });
    const result = await sender.send({ url: receiver.url('/hang'), headers, body });
    sender.close();
    expect(result).toMatchObject({ ok: false, httpStatus: null, errorKind: 'timeout' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(290);
    expect(result.latencyMs).toBeLessThan(2000);
  });

  it('does not follow redirects', async () => {
    receiver.on('/moved', { status: 302, headers: { location: receiver.url('/elsewhere') } });
    const sender = createHttpSender({ policy: open });
    const result = await sender.send({ url: receiver.url('/moved'), headers, body });
    sender.close();
    expect(result).toMatchObject({ ok: false, httpStatus: 302, errorKind: 'http_status', error: 'HTTP 302' });
    expect(receiver.received('/elsewhere')).toEqual([]);
  });

  it('keeps the first 4 KB of a response body, even a huge one', async () => {
    receiver.on('/big', { status: 500, body: 'é'.repeat(100_000) });
    const sender = createHttpSender({ policy: open });
    const result = await sender.send({ url: receiver.url('/big'), headers, body });
    sender.close();
    expect(result.httpStatus).toBe(500);
    expect(Buffer.byteLength(result.responseBody!)).toBeLessThanOrEqual(4096 + 3);
    expect(result.responseBody!.startsWith('éé')).toBe(true);
  });

  it('reads Retry-After from a 429 or 503', async () => {
    receiver.on('/busy', { status: 503, headers: { 'retry-after': '7' } });
    const sender = createHttpSender({ policy: open });
    const result = await sender.send({ url: receiver.url('/busy'), headers, body });
    sender.close();
    expect(result).toMatchObject({ httpStatus: 503, retryAfterMs: 7000 });
  });

  it('reports a refused connection as connect', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const sender = createHttpSender({ policy: open });
    const result = await sender.send({ url: `http://127.0.0.1:${port}/`, headers, body });
    sender.close();
    expect(result).toMatchObject({ ok: false, errorKind: 'connect' });
  });

  it('reports a name that does not resolve as dns', async () => {
    const lookup: LookupFn = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND hooks.invalid'), { code: 'ENOTFOUND' });
    };
    const sender = createHttpSender({ policy: open, lookup });
    const result = await sender.send({ url: 'http://hooks.invalid/', headers, body });
    sender.close();
    expect(result).toMatchObject({ ok: false, errorKind: 'dns' });
  });

  it('refuses, before connecting, a host that re-resolves to a private address (DNS rebinding)', async () => {
    const port = new URL(receiver.origin).port;
    let calls = 0;
    // Registration-time check sees a public address; the connect-time lookup gets loopback.
    const lookup: LookupFn = async () => (++calls === 1 ? [{ address: '93.184.215.14', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
    const sender = createHttpSender({ policy: { allowHttp: true }, lookup });
    const before = receiver.received().length;
    const result = await sender.send({ url: `http://rebind.example:${port}/rebind`, headers, body });
    sender.close();
    expect(calls).toBe(2);
    expect(result).toMatchObject({ ok: false, errorKind: 'unsafe_address' });
    expect(result.error).toMatch(/127\.0\.0\.1/);
    expect(receiver.received()).toHaveLength(before);
  });

  it('refuses a private IP literal without sending anything', async () => {
    const sender = createHttpSender({ policy: { allowHttp: true } });
    const before = receiver.received().length;
    const result = await sender.send({ url: receiver.url('/private'), headers, body });
    sender.close();
    expect(result).toMatchObject({ ok: false, errorKind: 'unsafe_address' });
    expect(receiver.received()).toHaveLength(before);
  });

  it('does not send a body over the size limit', async () => {
    const sender = createHttpSender({ policy: open, maxBodyBytes: 10 });
    const before = receiver.received().length;
    const result = await sender.send({ url: receiver.url('/large'), headers, body });
    sender.close();
    expect(result).toMatchObject({ ok: false, errorKind: 'too_large' });
    expect(receiver.received()).toHaveLength(before);
  });

  it('stops when aborted and says so', async () => {
    receiver.on('/slow', 'hang');
    const sender = createHttpSender({ policy: open });
    const controller = new AbortController();
    const sending = sender.send({ url: receiver.url('/slow'), headers, body, signal: controller.signal });
    await receiver.waitForCount(1, { path: '/slow' });
    controller.abort();
    expect(await sending).toMatchObject({ ok: false, aborted: true });
    sender.close();
  });
});
