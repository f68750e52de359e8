/**
 * The SQLite log reads a viewer's events as two index ranges: its user id's and its role's broadcasts
 * (`event_broadcasts`). A log written before that table existed is backfilled once on open; retention purges both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { newEventId } from '../../src/events/ids.js';
import { typesReceivableBy, type Role } from '../../src/events/catalogue.js';
import type { NewEvent } from '../../src/events/model.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const event = (overrides: Partial<NewEvent>, timestamp = Date.now()): NewEvent => ({
  id: newEventId(), type: 'order_created', level: 'HIGH', userId: null, roles: [], source: 'test', timestamp,
  data: { orderId: 'o' }, deliveryId: null, idempotencyKey: null, ...overrides,
});

const audience = (userId: string, role: Role) => ({ userId, role, types: [...typesReceivableBy(role)] });

describe('a viewer\'s events on SQLite', () => {
  it('merges its own events and its role\'s broadcasts in log order, each once, in both directions and pages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-bc-'));
    dirs.push(dir);
    const store = createSqliteEventStore({ dataDir: dir });
    const ready = { type: 'order_ready' as const };
    const written = await store.append([
      event({ ...ready, userId: 'dp_1' }),
      event({ ...ready, roles: ['delivery_partner'] }),
      event({ ...ready, userId: 'dp_2' }),
      event({ ...ready, userId: 'dp_1', roles: ['delivery_partner'] }), // addressed and broadcast: once
      event({ ...ready, roles: ['supplier'] }),
      event({ type: 'order_created', roles: ['delivery_partner'] }), // a type delivery partners never receive
      event({ ...ready, userId: 'dp_2', roles: ['delivery_partner', 'supplier'] }), // another's, but broadcast to the role
      event({ ...ready, userId: 'dp_1' }),
    ]);
    const seqs = written.map((r) => r.event.seq);
    const filter = { audience: audience('dp_1', 'delivery_partner') };
    const visible = (await store.list({ filter, order: 'ASC', limit: 10 })).map((e) => e.seq);
    expect(visible).toEqual([seqs[0], seqs[1], seqs[3], seqs[6], seqs[7]]);
    const desc = (await store.list({ filter, order: 'DESC', limit: 10 })).map((e) => e.seq);
    expect(desc).toEqual([...visible].reverse());
    const firstTwo = await store.list({ filter, order: 'ASC', limit: 2 });
    const rest = await store.list({ filter, order: 'ASC', limit: 10, afterSeq: firstTwo[1]!.seq });
    expect([...firstTwo, ...rest].map((e) => e.seq)).toEqual(visible);
    await store.close();
  });

  it('backfills the broadcasts of a log written before they were indexed, once, and purges them with retention', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-bc-'));
    dirs.push(dir);
    const old = Date.now() - 10 * 86_400_000;
    const first = createSqliteEventStore({ dataDir: dir });
    await first.append([event({ roles: ['supplier'], type: 'inventory_alert' as never, data: {} }, old), event({ roles: ['supplier'], type: 'inventory_alert' as never, data: {} })]);
    // As a Herald before event_broadcasts left it: the table empty, no backfill mark.
    first.db.exec("DELETE FROM event_broadcasts; DELETE FROM log_meta WHERE key = 'broadcasts'");
    await first.close();

    const reopened = createSqliteEventStore({ dataDir: dir });
    const filter = { audience: audience('sup_9', 'supplier') };
    expect(await reopened.list({ filter, order: 'ASC', limit: 10 })).toHaveLength(2);
    expect(await reopened.purgeBefore(Date.now() - 86_400_000)).toBe(1);
    expect(await reopened.list({ filter, order: 'ASC', limit: 10 })).toHaveLength(1);
    expect((reopened.db.prepare('SELECT count(*) AS n FROM event_broadcasts').get() as { n: number }).n).toBe(1);
    await reopened.close();
  });
});
