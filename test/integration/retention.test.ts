import { describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { startRetention } from '../../src/events/retention.js';
import type { EventId, NewEvent } from '../../src/events/model.js';
import { waitFor } from '../utils/deferred.js';

const DAY = 86_400_000;
const at = (timestamp: number, n: number): NewEvent => ({
  id: `evt_ret_${n}` as EventId,
  type: 'order_created',
  level: 'HIGH',
  userId: 'u',
  roles: [],
  source: 'orders',
  timestamp,
  data: { n },
  deliveryId: null,
  idempotencyKey: null,
});

describe('retention', () => {
  it('purges events older than the retention period and keeps the rest', async () => {
    const store = createSqliteEventStore({ dataDir: ':memory:' });
    const now = Date.UTC(2026, 10, 25, 12);
    await store.append([at(now - 91 * DAY, 1), at(now - 90 * DAY - 1, 2), at(now - 89 * DAY, 3), at(now, 4)]);
    const purged: number[] = [];
    const stop = startRetention({ store, days: 90, now: () => now, onPurged: (n) => purged.push(n) });
    await waitFor(() => purged.length === 1);
    stop();
    const left = await store.list({ filter: {}, order: 'ASC', limit: 10 });
    expect(purged).toEqual([2]);
    expect(left.map((e) => e.id)).toEqual(['evt_ret_3', 'evt_ret_4']);
    await store.close();
  });
});
