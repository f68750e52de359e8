import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { createSequencer, type Sequencer } from '../../src/events/sequencer.js';
import { LOG_START, type EventId, type HeraldEvent, type NewEvent } from '../../src/events/model.js';
import type { EventStore } from '../../src/events/event-store.js';
import { waitFor } from '../utils/deferred.js';

let n = 0;
const newEvent = (): NewEvent => ({
  id: `evt_seq_${++n}` as EventId, type: 'order_created', level: 'MEDIUM', userId: 'u1', roles: [], source: 'orders',
  timestamp: Date.now(), data: { orderId: `o${n}` }, deliveryId: null, idempotencyKey: null,
});

describe('sequencer', () => {
  let store: EventStore;
  let sequencer: Sequencer | undefined;
  afterEach(async () => {
    sequencer?.close();
    await store?.close();
  });

  async function logged(count: number): Promise<HeraldEvent[]> {
    store = createSqliteEventStore({ dataDir: ':memory:' });
    return (await store.append(Array.from({ length: count }, newEvent))).map((r) => r.event);
  }

  it('delivers out-of-order and repeated events once, in log order', async () => {
    const events = await logged(6);
    const got: HeraldEvent[] = [];
    sequencer = createSequencer({ store, start: LOG_START, deliver: (e) => got.push(e), holeWaitMs: 10_000 });
    for (const i of [2, 0, 0, 1, 5, 3, 2, 4, 5]) sequencer.push(events[i]!);
    expect(got.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    expect(sequencer.position).toBe(events[5]!.seq);
    expect(sequencer.waiting).toBe(0);
  });

  it('holds events behind a missing one, then fills the gap from the log after the wait', async () => {
    const events = await logged(5);
    const got: HeraldEvent[] = [];
    sequencer = createSequencer({ store, start: LOG_START, deliver: (e) => got.push(e), holeWaitMs: 50 });
    sequencer.push(events[0]!);
    sequencer.push(events[3]!); // 1 and 2 were lost by the bus
    expect(got).toHaveLength(1);
    expect(sequencer.waiting).toBe(1);
    // The log also holds the fifth, which the bus has not brought yet: it is delivered with the gap.
    await waitFor(() => got.length === 5, 2_000, 'the gap filled from the log');
    expect(got.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    sequencer.push(events[4]!); // the bus brings it late: not twice
    expect(got).toHaveLength(5);
  });

  it('reads what the bus never brought when told it may have missed some (catchUp)', async () => {
    const events = await logged(3);
    const got: HeraldEvent[] = [];
    sequencer = createSequencer({ store, start: LOG_START, deliver: (e) => got.push(e), holeWaitMs: 20 });
    sequencer.push(events[0]!);
    sequencer.catchUp();
    await waitFor(() => got.length === 3, 2_000, 'the tail read from the log');
    expect(got.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('ignores events at or before its start (already delivered before it existed)', async () => {
    const events = await logged(3);
    const got: HeraldEvent[] = [];
    sequencer = createSequencer({ store, start: events[1]!.seq as never, deliver: (e) => got.push(e) });
    for (const e of events) sequencer.push(e);
    expect(got.map((e) => e.id)).toEqual([events[2]!.id]);
  });
});
