/**
 * Two hubs writing one MongoDB-wire log (FerretDB here, whose `$inc` is not atomic across connections), as two
 * instances would, with one bus between them that loses messages: live subscribers and resuming ones end with
 * every committed event they may see, once, in log order, and a position reserved by a writer that never commits
 * is closed so no event can later appear behind a cursor already handed out (docs/cursors.md).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMongoEventStore, type MongoEventStore } from '../../src/store/mongo/mongo-event-store.js';
import { createHub, type Hub } from '../../src/events/hub.js';
import { createLocalEventBus, type EventBus } from '../../src/events/event-bus.js';
import { buildSchema } from '../../src/graphql/schema.js';
import { createPayloadValidator } from '../../src/graphql/payload-validator.js';
import { examplePayload } from '../../src/events/examples.js';
import { positionOf, type HeraldEvent } from '../../src/events/model.js';
import type { LiveFeed } from '../../src/events/stream.js';
import { startMongoForTests, uniqueDbName, type TestMongo } from '../utils/mongo.js';
import { waitFor } from '../utils/deferred.js';

const mongo = await startMongoForTests();
const skip = 'skip' in mongo ? mongo.skip : undefined;
if (skip) console.warn(skip);

const validator = createPayloadValidator(buildSchema([]));
const VIEWER = { userId: 'cus_mw', role: 'customer' as const };

/** The shared bus, losing every `dropEvery`-th message (a subscriber that missed a pub/sub message). */
function lossyBus(dropEvery: number): EventBus & { dropped: number } {
  const inner = createLocalEventBus();
  let n = 0;
  const bus = {
    dropped: 0,
    publish(events: readonly HeraldEvent[]) {
      for (const event of events) {
        if (++n % dropEvery === 0) {
          bus.dropped++;
          continue;
        }
        inner.publish([event]);
      }
    },
    subscribe: inner.subscribe,
  };
  return bus;
}

function collect(feed: LiveFeed): HeraldEvent[] {
  const got: HeraldEvent[] = [];
  feed.attach({ deliver: (event) => got.push(event), ready: async () => {}, fail: (error) => got.push({ failed: error } as never) });
  return got;
}

describe.skipIf(skip)('several writers on one log', () => {
  const url = (mongo as TestMongo).url;
  let stores: MongoEventStore[] = [];
  let hubs: Hub[] = [];

  async function twoInstances(bus: EventBus, holeWaitMs = 100) {
    const dbName = uniqueDbName();
    const a = await createMongoEventStore({ url, dbName });
    const b = await createMongoEventStore({ url, dbName });
    stores.push(a, b);
    const hubA = createHub({ store: a, bus, validator, holeWaitMs });
    const hubB = createHub({ store: b, bus, validator, holeWaitMs });
    hubs.push(hubA, hubB);
    return { a, b, hubA, hubB };
  }

  const publishFrom = (hub: Hub, n: number, tag: string) =>
    hub.publishMany(Array.from({ length: n }, (_, i) => ({ type: 'order_created' as const, userId: VIEWER.userId, source: tag, data: examplePayload('order_created'), idempotencyKey: `${tag}-${i}` })));

  afterEach(async () => {
    for (const hub of hubs) hub.close();
    for (const store of stores) await store.close();
    hubs = [];
    stores = [];
  });
  afterAll(async () => {
    if (!skip) await (mongo as TestMongo).stop();
  });

  it('delivers every event of two concurrent writers once, in log order, though the bus loses some', async () => {
    const bus = lossyBus(7);
    const { a, hubA, hubB } = await twoInstances(bus);
    const live = collect(await hubB.subscribe(VIEWER, {}));
    // Small concurrent batches from both instances: positions interleave and commit out of order.
    const rounds = Array.from({ length: 20 }, (_, i) => [publishFrom(hubA, 5, `a${i}`), publishFrom(hubB, 5, `b${i}`)]).flat();
    await Promise.all(rounds);
    const logged = await a.list({ filter: { userId: VIEWER.userId }, order: 'ASC', limit: 1000 });
    expect(logged).toHaveLength(200);
    await waitFor(() => live.length >= 200, 10_000, `200 live events (have ${live.length})`);
    expect(bus.dropped).toBeGreaterThan(20);
    expect(live.map((e) => e.id)).toEqual(logged.map((e) => e.id));
    // And a subscriber resuming halfway from a cursor, while the writers go on, ends the same way.
    const cursor = positionOf(logged[99]!);
    const resumed = collect(await hubA.subscribe(VIEWER, { afterSeq: cursor }));
    await Promise.all([publishFrom(hubA, 10, 'a-late'), publishFrom(hubB, 10, 'b-late')]);
    const all = await a.list({ filter: { userId: VIEWER.userId }, order: 'ASC', limit: 1000 });
    expect(all).toHaveLength(220);
    await waitFor(() => resumed.length >= 120, 10_000, `120 resumed events (have ${resumed.length})`);
    expect(resumed.map((e) => e.id)).toEqual(all.slice(100).map((e) => e.id));
  });

  it('closes a position whose writer never commits, and the late writer cannot commit behind a cursor', async () => {
    const bus = createLocalEventBus();
    const { a, hubA, hubB } = await twoInstances(bus, 150);
    const live = collect(await hubB.subscribe(VIEWER, {}));
    await publishFrom(hubA, 1, 'first');
    await waitFor(() => live.length === 1, 5_000, 'the first event');
    // A writer reserves the next position and dies before committing.
    const counter = await a.db.collection<{ _id: string; value: number }>('counters').findOneAndUpdate({ _id: 'event_seq' }, { $inc: { value: 1 } }, { returnDocument: 'after' });
    const reserved = counter!.value;
    const started = Date.now();
    const [after] = await publishFrom(hubA, 1, 'after-the-dead-one');
    expect(after!.seq).toBe(reserved + 1);
    // Held back behind the missing position, then delivered once the position is closed.
    await waitFor(() => live.length === 2, 5_000, 'the event after the dead reservation');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(live[1]!.id).toBe(after!.id);
    // The late writer now tries to commit at its position: the log refuses (the unique index holds the marker).
    const late = a.db.collection('event_logs').insertOne({ _id: 'evt_late' as never, seq: reserved, type: 'order_created', userId: VIEWER.userId, roles: [], timestamp: new Date() });
    await expect(late).rejects.toThrow(/duplicate key|E11000/);
    // Reads leave the marker out.
    const logged = await a.list({ filter: {}, order: 'ASC', limit: 10 });
    expect(logged.map((e) => e.id)).toEqual(live.map((e) => e.id));
    // A writer that lost its position to the marker takes a new one: publishing still works and is delivered.
    const [next] = await publishFrom(hubB, 1, 'next');
    expect(next!.seq).toBeGreaterThan(after!.seq);
    await waitFor(() => live.length === 3, 5_000, 'the next event');
  });
});
