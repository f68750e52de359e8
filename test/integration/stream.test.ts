import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { createHub, type Hub } from '../../src/events/hub.js';
import { createLocalEventBus } from '../../src/events/event-bus.js';
import { buildSchema } from '../../src/graphql/schema.js';
import { createPayloadValidator } from '../../src/graphql/payload-validator.js';
import { examplePayload } from '../../src/events/examples.js';
import type { EventStore } from '../../src/events/event-store.js';
import { positionOf, type HeraldEvent } from '../../src/events/model.js';
import { sleep } from '../utils/deferred.js';

const validator = createPayloadValidator(buildSchema([]));

/** The real SQLite store, with reads slowed down so commits interleave with a replay as on a remote store. */
function slowReads(store: EventStore, ms: number): EventStore {
  return { ...store, list: async (options) => { await sleep(ms); return store.list(options); } };
}

describe('event stream: replay then live', () => {
  let hub: Hub | undefined;
  let store: EventStore | undefined;
  afterEach(async () => {
    hub?.close();
    await store?.close();
  });

  it('misses nothing and repeats nothing when events commit during the replay', async () => {
    store = createSqliteEventStore({ dataDir: ':memory:' });
    hub = createHub({ store: slowReads(store, 15), bus: createLocalEventBus(), validator, replayBatchSize: 5 });
    const publish = () => hub!.publish({ type: 'order_created', userId: 'u1', source: 'orders', data: examplePayload('order_created') });
    const before: HeraldEvent[] = [];
    for (let i = 0; i < 23; i++) before.push(await publish());

    const stream = await hub.subscribe({ userId: 'u1', role: 'customer' }, { afterSeq: positionOf(before[2]!) });
    const received: HeraldEvent[] = [];
    const consumer = (async () => {
      for await (const event of stream) received.push(event);
    })();
    // Publish while the (slow) replay is running and after it.
    const during: HeraldEvent[] = [];
    for (let i = 0; i < 30; i++) {
      during.push(await publish());
      await sleep(2);
    }
    await sleep(100); // anything extra (a duplicate) would arrive now
    await stream.return!();
    await consumer;
    expect(received.map((e) => e.seq)).toEqual([...before.slice(3), ...during].map((e) => e.seq));
  });

  it('stops listening when the consumer returns, even while idle', async () => {
    store = createSqliteEventStore({ dataDir: ':memory:' });
    hub = createHub({ store, bus: createLocalEventBus(), validator });
    let closed = 0;
    const stream = await hub.subscribe({ userId: 'u1', role: 'customer' }, { onClose: () => closed++ });
    const pending = stream.next();
    expect(hub.router.size).toBe(1);
    await stream.return!();
    expect(await pending).toMatchObject({ done: true });
    expect(hub.router.size).toBe(0);
    expect(closed).toBe(1);
  });

  it('closes a consumer that falls too far behind, with a message saying how to resume', async () => {
    store = createSqliteEventStore({ dataDir: ':memory:' });
    hub = createHub({ store, bus: createLocalEventBus(), validator, subscriptionBuffer: 10 });
    const stream = await hub.subscribe({ userId: 'u1', role: 'customer' }, {});
    await hub.publishMany(Array.from({ length: 12 }, () => ({ type: 'order_created' as const, userId: 'u1', source: 'orders', data: examplePayload('order_created') })));
    const drained: unknown[] = [];
    await expect(
      (async () => {
        for await (const event of stream) drained.push(event);
      })(),
    ).rejects.toThrow(/resume/);
    expect(drained.length).toBeLessThanOrEqual(10);
    expect(hub.router.size).toBe(0);
  });
});
