import { describe, expect, it } from 'vitest';
import { eventPayload, testPayload } from '../../../src/webhooks/payload.js';
import type { EventId, HeraldEvent } from '../../../src/events/model.js';
import { examplePayload } from '../../../src/events/examples.js';

describe('eventPayload', () => {
  it('wraps the event as { type, timestamp, data } with the snake_case type and the event fields in data', () => {
    const event: HeraldEvent = {
      id: 'evt_01JX' as EventId, seq: 42, type: 'inventory_alert', level: 'HIGH', userId: 'sup_1', roles: ['supplier'],
      source: 'inventory-service', timestamp: Date.UTC(2025, 5, 2, 12), data: examplePayload('inventory_alert'),
      deliveryId: null, idempotencyKey: 'k1',
    };
    const body = JSON.parse(eventPayload(event, 'k3v9x2mq-42'));
    expect(body).toEqual({
      type: 'inventory_alert',
      timestamp: '2025-06-02T12:00:00.000Z',
      data: {
        id: 'evt_01JX', type: 'inventory_alert', level: 'HIGH', userId: 'sup_1', source: 'inventory-service',
        timestamp: '2025-06-02T12:00:00.000Z', cursor: 'k3v9x2mq-42', ...examplePayload('inventory_alert'),
      },
    });
    expect(Object.keys(body)).toEqual(['type', 'timestamp', 'data']);
  });

  it('serializes the same event to the same bytes on every attempt', () => {
    const event = {
      id: 'evt_1' as EventId, seq: 1, type: 'order_created', level: 'HIGH', userId: null, roles: [], source: 's',
      timestamp: 0, data: { orderId: 'o' }, deliveryId: null, idempotencyKey: null,
    } satisfies HeraldEvent;
    expect(eventPayload(event, 'k3v9x2mq-1')).toBe(eventPayload({ ...event }, 'k3v9x2mq-1'));
  });
});

describe('testPayload', () => {
  it('is a webhook_test message naming the endpoint', () => {
    expect(JSON.parse(testPayload('whe_1', 0))).toMatchObject({ type: 'webhook_test', timestamp: '1970-01-01T00:00:00.000Z', data: { endpointId: 'whe_1' } });
  });
});
