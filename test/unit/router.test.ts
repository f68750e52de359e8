import { describe, expect, it } from 'vitest';
import { createRouter, type LiveSubscriber } from '../../src/events/router.js';
import type { HeraldEvent, EventId, Viewer } from '../../src/events/model.js';
import type { EventTypeName, Role } from '../../src/events/catalogue.js';

let seq = 0;
const event = (type: EventTypeName, userId: string | null, roles: Role[] = [], deliveryId: string | null = null): HeraldEvent => ({
  id: `evt_${++seq}` as EventId,
  seq,
  type,
  level: 'HIGH',
  userId,
  roles,
  source: 'test',
  timestamp: Date.now(),
  data: {},
  deliveryId,
  idempotencyKey: null,
});

function subscriber(viewer: Viewer, types: EventTypeName[] | null = null, deliveryId?: string): LiveSubscriber & { got: string[] } {
  const got: string[] = [];
  return { viewer, types: types ? new Set(types) : null, deliveryId, got, push: (e) => got.push(e.id) };
}

describe('router', () => {
  it('routes by user id to every connection of that user, and only to them', () => {
    const router = createRouter();
    const a1 = subscriber({ userId: 'a', role: 'customer' });
    const a2 = subscriber({ userId: 'a', role: 'customer' });
    const b = subscriber({ userId: 'b', role: 'customer' });
    [a1, a2, b].forEach((s) => router.add(s));
    const e = event('order_created', 'a');
    router.dispatch(e);
    expect(a1.got).toEqual([e.id]);
    expect(a2.got).toEqual([e.id]);
    expect(b.got).toEqual([]);
  });

  it('broadcasts by role, once per subscriber even when also addressed by user id', () => {
    const router = createRouter();
    const a = subscriber({ userId: 'a', role: 'customer' });
    const s = subscriber({ userId: 's', role: 'supplier' });
    const p = subscriber({ userId: 'p', role: 'delivery_partner' });
    [a, s, p].forEach((x) => router.add(x));
    const e = event('order_created', 'a', ['customer', 'supplier']);
    router.dispatch(e);
    expect(a.got).toEqual([e.id]);
    expect(s.got).toEqual([e.id]);
    expect(p.got).toEqual([]); // partners are not in order_created's audience
  });

  it('applies the catalogue even to directly addressed events', () => {
    const router = createRouter();
    const customer = subscriber({ userId: 'c', role: 'customer' });
    router.add(customer);
    router.dispatch(event('system_alert', 'c'));
    router.dispatch(event('earning_recorded', 'c'));
    expect(customer.got).toEqual([]);
  });

  it('gives admins everything and honours type filters', () => {
    const router = createRouter();
    const admin = subscriber({ userId: 'adm', role: 'admin' });
    const onlyAlerts = subscriber({ userId: 'adm2', role: 'admin' }, ['system_alert']);
    [admin, onlyAlerts].forEach((x) => router.add(x));
    const e1 = event('order_created', 'x');
    const e2 = event('system_alert', null);
    router.dispatch(e1);
    router.dispatch(e2);
    expect(admin.got).toEqual([e1.id, e2.id]);
    expect(onlyAlerts.got).toEqual([e2.id]);
  });

  it('streams a tracked delivery to its tracking subscribers only', () => {
    const router = createRouter();
    const tracker = subscriber({ userId: 'c', role: 'customer' }, ['location_updated'], 'd1');
    router.add(tracker);
    const mine = event('location_updated', 'partner', [], 'd1');
    router.dispatch(mine);
    router.dispatch(event('location_updated', 'partner', [], 'd2'));
    expect(tracker.got).toEqual([mine.id]);
  });

  it('stops delivering after removal and keeps its size right', () => {
    const router = createRouter();
    const a = subscriber({ userId: 'a', role: 'customer' });
    const remove = router.add(a);
    expect(router.size).toBe(1);
    remove();
    remove();
    expect(router.size).toBe(0);
    router.dispatch(event('order_created', 'a'));
    expect(a.got).toEqual([]);
  });

  it('knows whether a user has a live subscription receiving an event', () => {
    const router = createRouter();
    router.add(subscriber({ userId: 's', role: 'supplier' }, ['inventory_alert']));
    expect(router.hasLiveSubscriber('s', event('inventory_alert', 's'))).toBe(true);
    expect(router.hasLiveSubscriber('s', event('order_created', 's'))).toBe(false);
    expect(router.hasLiveSubscriber('other', event('inventory_alert', 'other'))).toBe(false);
  });
});
