import { describe, expect, it } from 'vitest';
import { createEndpointDirectory, endpointWants } from '../../../src/webhooks/directory.js';
import type { EndpointId, WebhookEndpoint } from '../../../src/webhooks/model.js';
import type { EventId, HeraldEvent } from '../../../src/events/model.js';
import { deferred } from '../../utils/deferred.js';

const T0 = 1_750_000_000_000;
let n = 0;
const endpoint = (overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
  id: `whe_${++n}` as EndpointId,
  ownerId: 'sup_1',
  ownerRole: 'supplier',
  url: 'https://hooks.example.com/',
  description: null,
  eventTypes: ['order_created', 'dispute_created'],
  minLevel: 'HIGH',
  mode: 'ALWAYS',
  enabled: true,
  disabledReason: null,
  disabledAt: null,
  failingSince: null,
  secrets: [],
  createdAt: T0,
  updatedAt: T0,
  ...overrides,
});
const event = (overrides: Partial<HeraldEvent> = {}): HeraldEvent => ({
  id: 'evt_1' as EventId,
  seq: 1,
  type: 'order_created',
  level: 'HIGH',
  userId: 'sup_1',
  roles: [],
  source: 'orders-service',
  timestamp: T0 + 1,
  data: {},
  deliveryId: null,
  idempotencyKey: null,
  ...overrides,
});

describe('endpointWants', () => {
  it('takes events addressed to the owner, of a chosen type, at or above the minimum level', () => {
    expect(endpointWants(endpoint(), event())).toBe(true);
    expect(endpointWants(endpoint(), event({ level: 'CRITICAL' }))).toBe(true);
    expect(endpointWants(endpoint(), event({ level: 'MEDIUM' }))).toBe(false);
    expect(endpointWants(endpoint({ minLevel: 'LOW' }), event({ level: 'LOW' }))).toBe(true);
    expect(endpointWants(endpoint(), event({ type: 'order_ready' }))).toBe(false);
  });

  it('applies the live audience rule: addressed by user or role, and receivable by the role', () => {
    expect(endpointWants(endpoint(), event({ userId: 'sup_2' }))).toBe(false);
    expect(endpointWants(endpoint(), event({ type: 'dispute_created', userId: null, roles: ['supplier'] }))).toBe(true);
    expect(endpointWants(endpoint(), event({ type: 'dispute_created', userId: null, roles: ['customer'] }))).toBe(false);
    // A supplier never receives system alerts, even one addressed to it.
    expect(endpointWants(endpoint({ eventTypes: ['system_alert'] }), event({ type: 'system_alert', level: 'CRITICAL' }))).toBe(false);
    expect(endpointWants(endpoint({ ownerRole: 'admin', ownerId: 'adm_1' }), event({ userId: 'sup_9' }))).toBe(true);
  });

  it('skips disabled endpoints and events older than the endpoint', () => {
    expect(endpointWants(endpoint({ enabled: false }), event())).toBe(false);
    expect(endpointWants(endpoint({ createdAt: T0 + 10 }), event())).toBe(false);
  });
});

describe('createEndpointDirectory', () => {
  it('finds the endpoints of the addressed owner, of role broadcasts and of admins', async () => {
    const mine = endpoint();
    const other = endpoint({ ownerId: 'sup_2' });
    const admin = endpoint({ ownerId: 'adm_1', ownerRole: 'admin' });
    const directory = createEndpointDirectory({ listEndpoints: async () => [mine, other, admin] });
    await directory.reload();
    expect(directory.candidates(event()).map((e) => e.id).sort()).toEqual([mine.id, admin.id].sort());
    expect(directory.candidates(event({ type: 'dispute_created', userId: 'sup_1', roles: ['supplier'] })).map((e) => e.id).sort()).toEqual(
      [mine.id, other.id, admin.id].sort(),
    );
    expect(directory.hasWhenOffline()).toBe(false);
  });

  it('reflects puts and removals at once', async () => {
    const directory = createEndpointDirectory({ listEndpoints: async () => [] });
    await directory.reload();
    const added = endpoint({ mode: 'WHEN_OFFLINE' });
    directory.put(added);
    expect(directory.candidates(event())).toEqual([added]);
    expect(directory.hasWhenOffline()).toBe(true);
    directory.put({ ...added, enabled: false });
    expect(directory.candidates(event())).toEqual([]);
    expect(directory.get(added.id)?.enabled).toBe(false);
    directory.remove(added.id);
    expect(directory.get(added.id)).toBeUndefined();
  });

  it('keeps a change made while a reload was reading the store', async () => {
    const listed = deferred<WebhookEndpoint[]>();
    const directory = createEndpointDirectory({ listEndpoints: () => listed.promise });
    const reloading = directory.reload();
    const created = endpoint();
    directory.put(created);
    listed.resolve([]);
    await reloading;
    expect(directory.get(created.id)).toEqual(created);
  });
});
