/** Committed events built in memory, for tests of code that carries events without a store (buses, routers). */
import { examplePayload } from '../../src/events/examples.js';
import type { EventId, HeraldEvent } from '../../src/events/model.js';

/** An `order_created` for `cust_1` at position `seq`, with a unique id. */
export function committedEvent(seq: number, overrides: Partial<HeraldEvent> = {}): HeraldEvent {
  return {
    id: `evt_test_${seq}_${Math.random().toString(36).slice(2, 8)}` as EventId,
    seq,
    type: 'order_created',
    level: 'MEDIUM',
    userId: 'cust_1',
    roles: [],
    source: 'test-service',
    timestamp: 1_700_000_000_000 + seq,
    data: examplePayload('order_created'),
    deliveryId: null,
    idempotencyKey: null,
    ...overrides,
  };
}
