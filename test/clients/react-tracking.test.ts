/** `reduceDeliveryTracking`, the pure folding behind `useDeliveryTracking` (no I/O). */
import { describe, expect, it } from 'vitest';
import { emptyTracking, reduceDeliveryTracking } from '../../clients/react/src/index.js';
import type { HeraldEvent } from '../../clients/sdk/src/index.js';
import { payloadOf } from '../utils/sdk.js';

let seq = 0;
const event = <T extends HeraldEvent['type']>(type: T, overrides: Record<string, unknown>, timestamp: string): HeraldEvent =>
  ({ ...payloadOf(type, overrides), id: `evt_${++seq}`, type, __typename: 'x', level: 'LOW', userId: null, roles: [], source: 't', timestamp, cursor: `c${seq}` }) as unknown as HeraldEvent;

describe('reduceDeliveryTracking', () => {
  const id = 'dlv_unit';
  it('follows steps, positions and estimates, ignoring other deliveries and older estimates', () => {
    let s = emptyTracking(id);
    s = reduceDeliveryTracking(s, event('DELIVERY_ACCEPTED', { deliveryId: id, estimatedDeliveryAt: '2030-01-01T12:30:00.000Z' }, '2030-01-01T12:00:00.000Z'));
    expect(s).toMatchObject({ step: 'ACCEPTED', eta: { at: '2030-01-01T12:30:00.000Z', seconds: null }, position: null, count: 1 });
    s = reduceDeliveryTracking(s, event('ETA_UPDATED', { deliveryId: id, etaAt: '2030-01-01T12:25:00.000Z', etaSeconds: 900 }, '2030-01-01T12:10:00.000Z'));
    // An estimate made earlier (history arriving late) does not replace the newer one.
    s = reduceDeliveryTracking(s, event('ETA_UPDATED', { deliveryId: id, etaAt: '2030-01-01T12:40:00.000Z', etaSeconds: 2000 }, '2030-01-01T12:05:00.000Z'));
    expect(s.eta).toMatchObject({ at: '2030-01-01T12:25:00.000Z', seconds: 900 });
    s = reduceDeliveryTracking(s, event('LOCATION_UPDATED', { deliveryId: 'dlv_other', latitude: 1, longitude: 1 }, '2030-01-01T12:11:00.000Z'));
    expect(s.count).toBe(3);
    for (let i = 0; i < 5; i++) s = reduceDeliveryTracking(s, event('LOCATION_UPDATED', { deliveryId: id, latitude: 50 + i, longitude: 10, recordedAt: null }, `2030-01-01T12:1${i}:30.000Z`), 3);
    expect(s.trail.map((p) => p.latitude)).toEqual([52, 53, 54]);
    expect(s.position).toMatchObject({ latitude: 54, at: '2030-01-01T12:14:30.000Z' });
    s = reduceDeliveryTracking(s, event('DELIVERY_COMPLETED', { deliveryId: id }, '2030-01-01T12:26:00.000Z'));
    expect(s).toMatchObject({ step: 'COMPLETED', eta: null, position: { latitude: 54 } });
  });
});
