/**
 * The Redis event bus against a real redis-server: delivery between instances (each event once, own events at
 * once and their echo skipped), foreign messages, a Redis restart, a publisher cut off from Redis, error logging
 * that neither floods nor leaks the password.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRedisEventBus, type RedisEventBus, type RedisEventBusOptions } from '../../src/bus/redis-bus.js';
import { createEnvelopeCodec } from '../../src/bus/envelope.js';
import type { BusSubscribed } from '../../src/events/event-bus.js';
import type { HeraldEvent } from '../../src/events/model.js';
import { createLogger } from '../../src/log.js';
import { committedEvent } from '../utils/events.js';
import { waitFor } from '../utils/deferred.js';
import { freePort } from '../utils/ports.js';
import { startRedisForTests, type TestRedis } from '../utils/redis.js';
import { startTcpProxy } from '../utils/tcp-proxy.js';

const redis = await startRedisForTests();
const skip = 'skip' in redis ? redis.skip : undefined;
if (skip) console.warn(skip);

/** Log lines a bus wrote, parsed. */
function captureLogs() {
  const lines: Array<Record<string, any>> = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line));
      }
      done();
    },
  });
  return { logger: createLogger('info', stream), lines, raw };
}

describe.skipIf(skip !== undefined)('Redis event bus', () => {
  const server = redis as TestRedis;
  const buses: RedisEventBus[] = [];
  const clients: Redis[] = [];
  let channelCount = 0;

  /** A bus on a channel of its test, collecting what its handler receives. */
  function bus(instanceId: string, channel: string, options: Partial<RedisEventBusOptions> = {}) {
    const logs = captureLogs();
    const created = createRedisEventBus({ url: server.url, channel, instanceId, logger: logs.logger, maxReconnectDelayMs: 200, ...options });
    buses.push(created);
    const received: HeraldEvent[] = [];
    created.subscribe((event) => received.push(event));
    return { bus: created, received, logs };
  }
  const freshChannel = () => `herald:test:${++channelCount}`;
  const ids = (events: readonly HeraldEvent[]) => events.map((e) => e.id);

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
    await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
  });
  afterAll(async () => {
    await server.stop();
  });

  it("delivers another instance's events once each, and its own at once, skipping their echo", async () => {
    const channel = freshChannel();
    const a = bus('a', channel);
    const b = bus('b', channel);
    await Promise.all([a.bus.ready, b.bus.ready]);
    const fromA = [committedEvent(1), committedEvent(2)];
    a.bus.publish(fromA);
    // Local delivery is synchronous: the handlers have run when publish returns.
    expect(ids(a.received)).toEqual(ids(fromA));
    await waitFor(() => b.received.length >= 2, 5000, "A's events on B");
    expect(b.received).toEqual(fromA);

    const fromB = [committedEvent(3)];
    b.bus.publish(fromB);
    // Redis delivers a channel's messages in the order it took them, so once A has B's event, the echo of its
    // own (published before) has come and gone: A must have each event exactly once.
    await waitFor(() => a.received.length >= 3, 5000, "B's event on A");
    expect(ids(a.received)).toEqual(ids([...fromA, ...fromB]));
    expect(ids(b.received)).toEqual(ids([...fromA, ...fromB]));
    expect(b.received[0]).not.toBe(fromA[0]); // B's came through Redis, as JSON
  });

  it('never throws from publish: an event it cannot serialize is still delivered locally, and logged', async () => {
    const a = bus('a', freshChannel());
    await a.bus.ready;
    const odd = committedEvent(1, { data: { amount: 10n } });
    expect(() => a.bus.publish([odd])).not.toThrow();
    expect(a.received).toEqual([odd]);
    expect(a.logs.lines.some((l) => /announcement not serializable/.test(l['msg']))).toBe(true);
  });

  it('drops messages that are not Herald announcements, logging once per window, and reports a clashing INSTANCE_ID', async () => {
    const channel = freshChannel();
    const b = bus('b', channel);
    await b.bus.ready;
    const raw = new Redis(server.url);
    clients.push(raw);
    for (const junk of ['hello', '{"v":9,"events":[]}', '{"v":1,"from":"x","boot":"y","events":[{"id":1}]}']) await raw.publish(channel, junk);
    const marker = committedEvent(10);
    await raw.publish(channel, createEnvelopeCodec('c', 'boot').encode([marker]));
    await waitFor(() => b.received.length >= 1, 5000, 'the valid announcement');
    expect(ids(b.received)).toEqual([marker.id]);
    const dropped = b.logs.lines.filter((l) => /message dropped/.test(l['msg']));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ reason: 'not JSON', channel, instanceId: 'b' });

    // Another process publishing as "b": its events are delivered (they are not ours), the clash is reported.
    const impostor = committedEvent(11);
    await raw.publish(channel, createEnvelopeCodec('b', 'another-boot').encode([impostor]));
    await waitFor(() => b.received.length >= 2, 5000, "the other process's event");
    expect(b.logs.lines.some((l) => l['level'] === 50 && /another process publishes with this INSTANCE_ID/.test(l['msg']))).toBe(true);
  });

  it('says when the subscription is lost and re-established across a Redis restart, then delivers again, none twice', async () => {
    const channel = freshChannel();
    const listenerErrors: unknown[] = [];
    const a = bus('a', channel);
    const b = bus('b', channel, { onHandlerError: (error) => listenerErrors.push(error) });
    await Promise.all([a.bus.ready, b.bus.ready]);
    const lost: number[] = [];
    const resubscribed: BusSubscribed[] = [];
    // A listener that throws is reported and does not keep the others from being told.
    b.bus.onLost(() => {
      throw new Error('a buggy listener');
    });
    b.bus.onSubscribed(() => {
      throw new Error('a buggy listener');
    });
    b.bus.onLost((at) => lost.push(at));
    b.bus.onSubscribed((info) => resubscribed.push(info));

    const before = committedEvent(1);
    a.bus.publish([before]);
    await waitFor(() => b.received.length >= 1, 5000, 'the event before the restart');

    await server.kill();
    await waitFor(() => lost.length === 1 && !b.bus.subscribed, 5000, 'B to notice the loss');
    // While Redis is down the publishing instance still delivers its own events locally.
    const during = committedEvent(2);
    a.bus.publish([during]);
    expect(ids(a.received)).toEqual([before.id, during.id]);

    await server.start();
    await waitFor(() => resubscribed.length === 1, 10_000, 'B to subscribe again');
    expect(resubscribed[0]).toMatchObject({ reconnect: true, lostAt: lost[0] });
    expect(resubscribed[0]!.at).toBeGreaterThanOrEqual(lost[0]!);
    expect(listenerErrors).toHaveLength(2);
    expect(b.logs.lines.some((l) => /subscribed again/.test(l['msg']) && typeof l['downMs'] === 'number')).toBe(true);

    // A's publishing connection may come back after B's subscription: what A publishes now is kept until it is.
    const after = [committedEvent(3), committedEvent(4)];
    a.bus.publish(after);
    await waitFor(() => b.received.some((e) => e.id === after[1]!.id), 10_000, 'events after the restart on B');
    const onB = ids(b.received);
    expect(new Set(onB).size).toBe(onB.length);
    expect(onB.slice(-2)).toEqual(ids(after));
    // `during` reached B only if A's connection was back before B's subscription: the log has to cover it.
    expect(onB.filter((id) => id !== during.id)).toEqual([before.id, ...ids(after)]);
  });

  it('keeps what it publishes while cut off from Redis and sends it, in order, when the link is back', async () => {
    const channel = freshChannel();
    const proxy = await startTcpProxy(server.port);
    try {
      const a = bus('a', channel, { url: `redis://127.0.0.1:${proxy.port}` });
      const b = bus('b', channel);
      await Promise.all([a.bus.ready, b.bus.ready]);
      proxy.cut();
      await waitFor(() => !a.bus.subscribed, 5000, 'A to lose Redis');
      const kept = [committedEvent(1), committedEvent(2), committedEvent(3)];
      for (const event of kept) a.bus.publish([event]);
      expect(b.received).toHaveLength(0);
      proxy.restore();
      await waitFor(() => b.received.length >= 3, 10_000, 'the kept announcements on B');
      expect(ids(b.received)).toEqual(ids(kept));
      expect(a.logs.lines.some((l) => /kept while Redis was unreachable sent/.test(l['msg']) && l['sent'] === 3)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('drops the oldest kept announcements past its bound, and says so', async () => {
    const channel = freshChannel();
    const proxy = await startTcpProxy(server.port);
    try {
      const one = createEnvelopeCodec('a', 'x').encode([committedEvent(1)]).length;
      const a = bus('a', channel, { url: `redis://127.0.0.1:${proxy.port}`, pendingMaxBytes: one * 2.5 });
      const b = bus('b', channel);
      await Promise.all([a.bus.ready, b.bus.ready]);
      proxy.cut();
      await waitFor(() => !a.bus.subscribed, 5000, 'A to lose Redis');
      const events = [1, 2, 3, 4].map((n) => committedEvent(n));
      for (const event of events) a.bus.publish([event]);
      expect(a.logs.lines.some((l) => /oldest announcements dropped/.test(l['msg']) && l['dropped'] >= 1)).toBe(true);
      proxy.restore();
      await waitFor(() => b.received.length >= 2, 10_000, 'the newest kept announcements on B');
      expect(ids(b.received)).toEqual(ids(events.slice(2)));
    } finally {
      await proxy.close();
    }
  });

  it('logs repeated connection errors once per window with a count, never the URL or its password', async () => {
    const guarded = await startRedisForTests({ args: ['--requirepass', 'the-right-password'] });
    if ('skip' in guarded) throw new Error(guarded.skip);
    try {
      const password = 'wr0ng-s3cret-pa55';
      const dead = `redis://:${password}@127.0.0.1:${await freePort()}`;
      const wrong = `redis://:${encodeURIComponent(password)}@127.0.0.1:${guarded.port}`;
      const refused = bus('a', freshChannel(), { url: dead, maxReconnectDelayMs: 20, errorLogIntervalMs: 400 });
      const denied = bus('b', freshChannel(), { url: wrong, maxReconnectDelayMs: 20, errorLogIntervalMs: 400 });
      const started = Date.now();
      const counted = (logs: ReturnType<typeof captureLogs>) => logs.lines.some((l) => l['connection'] === 'sub' && l['suppressed'] > 0);
      await waitFor(() => counted(refused.logs) && counted(denied.logs), 10_000, 'a second window with suppressed errors');
      const windows = Math.ceil((Date.now() - started) / 400) + 1;
      for (const logs of [refused.logs, denied.logs]) {
        const errors = logs.lines.filter((l) => /connection error|subscribe failed/.test(l['msg']));
        // At most one line per window per connection and kind of failure, each a single line without a stack.
        expect(errors.length).toBeLessThanOrEqual(windows * 2 * 2);
        expect(errors.every((l) => l['level'] === 40 && l['stack'] === undefined && l['err'] === undefined)).toBe(true);
        expect(logs.raw.join('\n')).not.toContain(password);
        expect(logs.raw.join('\n')).not.toContain(encodeURIComponent(password));
      }
      expect(refused.logs.lines.find((l) => l['code'] === 'ECONNREFUSED')).toMatchObject({ redis: dead.replace(/^.*@/, '') });
      expect(denied.logs.raw.join('\n')).toMatch(/WRONGPASS|NOAUTH/);

      // close() stops the reconnecting: no more lines after it.
      await Promise.all([refused.bus.close(), denied.bus.close()]);
      const count = refused.logs.lines.length + denied.logs.lines.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(refused.logs.lines.length + denied.logs.lines.length).toBe(count);
    } finally {
      await guarded.stop();
    }
  });
});
