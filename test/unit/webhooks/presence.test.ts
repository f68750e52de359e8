import { describe, expect, it } from 'vitest';
import { createPresenceLog, recordPresence } from '../../../src/webhooks/presence.js';
import { createEndpointDirectory } from '../../../src/webhooks/directory.js';
import { createLocalEventBus } from '../../../src/events/event-bus.js';
import type { EndpointId, WebhookEndpoint } from '../../../src/webhooks/model.js';
import type { EventId, HeraldEvent } from '../../../src/events/model.js';

const id = (s: string) => s as EventId;

describe('createPresenceLog', () => {
  it('answers true, false or unknown per event and owner', () => {
    const log = createPresenceLog();
    log.record(id('e1'), 'sup_1', true);
    log.record(id('e1'), 'sup_2', false);
    expect(log.wasLive(id('e1'), 'sup_1')).toBe(true);
    expect(log.wasLive(id('e1'), 'sup_2')).toBe(false);
    expect(log.wasLive(id('e1'), 'sup_3')).toBeUndefined();
    expect(log.seen(id('e1'))).toBe(true);
    log.forget(id('e1'));
    expect(log.seen(id('e1'))).toBe(false);
  });

  it('drops the oldest events beyond its limit', () => {
    const log = createPresenceLog(2);
    log.record(id('e1'), 'sup_1', true);
    log.markSeen(id('e2'));
    log.markSeen(id('e3'));
    expect(log.size).toBe(2);
    expect(log.wasLive(id('e1'), 'sup_1')).toBeUndefined();
    expect(log.seen(id('e3'))).toBe(true);
  });
});

describe('recordPresence', () => {
  it('records, on the bus, whether owners of WHEN_OFFLINE endpoints were live for each event', async () => {
    const endpoint: WebhookEndpoint = {
      id: 'whe_1' as EndpointId, ownerId: 'sup_1', ownerRole: 'supplier', url: 'https://x.example/', description: null,
      eventTypes: ['order_created'], minLevel: 'HIGH', mode: 'WHEN_OFFLINE', enabled: true, disabledReason: null,
      disabledAt: null, failingSince: null, secrets: [], createdAt: 0, updatedAt: 0,
    };
    const directory = createEndpointDirectory({ listEndpoints: async () => [endpoint] });
    await directory.reload();
    const bus = createLocalEventBus();
    const presence = createPresenceLog();
    let live = true;
    const stop = recordPresence({ bus, router: { hasLiveSubscriber: () => live }, directory, presence });
    const event = (n: number): HeraldEvent => ({
      id: id(`evt_${n}`), seq: n, type: 'order_created', level: 'HIGH', userId: 'sup_1', roles: [], source: 's',
      timestamp: 1, data: {}, deliveryId: null, idempotencyKey: null,
    });
    bus.publish([event(1)]);
    live = false;
    bus.publish([event(2)]);
    expect(presence.wasLive(id('evt_1'), 'sup_1')).toBe(true);
    expect(presence.wasLive(id('evt_2'), 'sup_1')).toBe(false);
    stop();
    bus.publish([event(3)]);
    expect(presence.seen(id('evt_3'))).toBe(false);
  });
});
