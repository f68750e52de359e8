/**
 * `useDeliveryTracking(deliveryId)`: one delivery followed live (`deliveryTracking` on the hub: its status,
 * location and ETA events, for its customer, its courier and admins), folded into what a tracking panel shows —
 * the latest status step, ETA and position, and a bounded trail of positions. The folding is a pure function
 * (`reduceDeliveryTracking`) so a page can also feed it the history from `useDeliveryTimelineQuery`.
 */
import { useEffect, useRef, useState } from 'react';
import { isHeraldError, type HeraldClientStatus, type HeraldEvent } from '../../sdk/src/index.js';
import { useHeraldClient } from './context.js';
import { useClientStatus } from './use-herald-status.js';

/** The status steps of a delivery, in order (`CANCELLED` may follow any). */
export const DELIVERY_STEPS = ['ACCEPTED', 'PICKED_UP', 'IN_TRANSIT', 'ARRIVED', 'COMPLETED'] as const;
export type DeliveryStep = (typeof DELIVERY_STEPS)[number] | 'CANCELLED';

export interface DeliveryPosition {
  readonly latitude: number;
  readonly longitude: number;
  readonly heading: number | null;
  readonly speedKmh: number | null;
  /** When the fix was taken (`recordedAt`), else when the event was logged. */
  readonly at: string;
}

export interface DeliveryEta {
  /** Expected arrival (ISO-8601). */
  readonly at: string;
  /** Seconds from the event's timestamp to `at`, when the event said. */
  readonly seconds: number | null;
  readonly leg: 'TO_PICKUP' | 'TO_DROPOFF' | null;
  readonly distanceMeters: number | null;
  readonly delayReason: string | null;
  /** When the estimate was made (the event's timestamp). */
  readonly updatedAt: string;
}

export interface DeliveryTrackingState {
  readonly deliveryId: string;
  readonly step: DeliveryStep | null;
  readonly eta: DeliveryEta | null;
  readonly position: DeliveryPosition | null;
  /** Positions seen, oldest first, at most `trailLimit`. */
  readonly trail: readonly DeliveryPosition[];
  readonly lastEvent: HeraldEvent | null;
  /** Events folded so far. */
  readonly count: number;
}

export interface UseDeliveryTrackingOptions {
  /** Positions kept in `trail`. @default 200 */
  readonly trailLimit?: number;
  /** Replay from this cursor first (e.g. the last cursor of the timeline query). @default none */
  readonly after?: string;
  readonly onEvent?: (event: HeraldEvent) => void;
}

export interface UseDeliveryTrackingResult extends DeliveryTrackingState {
  readonly status: HeraldClientStatus;
}

export const emptyTracking = (deliveryId: string): DeliveryTrackingState => ({ deliveryId, step: null, eta: null, position: null, trail: [], lastEvent: null, count: 0 });

const STEP_OF: Partial<Record<HeraldEvent['type'], DeliveryStep>> = {
  DELIVERY_ACCEPTED: 'ACCEPTED',
  DELIVERY_PICKED_UP: 'PICKED_UP',
  DELIVERY_IN_TRANSIT: 'IN_TRANSIT',
  DELIVERY_ARRIVED: 'ARRIVED',
  DELIVERY_COMPLETED: 'COMPLETED',
  DELIVERY_CANCELLED: 'CANCELLED',
};

const point = (p: { latitude: number; longitude: number }, at: string, extra?: Partial<DeliveryPosition>): DeliveryPosition => ({
  latitude: p.latitude,
  longitude: p.longitude,
  heading: extra?.heading ?? null,
  speedKmh: extra?.speedKmh ?? null,
  at,
});

function positionOf(event: HeraldEvent): DeliveryPosition | null {
  switch (event.type) {
    case 'LOCATION_UPDATED':
      return point(event, event.recordedAt ?? event.timestamp, { heading: event.heading ?? null, speedKmh: event.speedKmh ?? null });
    case 'DELIVERY_PICKED_UP':
      return point(event.pickupLocation, event.timestamp);
    case 'DELIVERY_IN_TRANSIT':
      return point(event.currentLocation, event.timestamp);
    case 'DELIVERY_ARRIVED':
      return point(event.arrivalLocation, event.timestamp);
    default:
      return null;
  }
}

function etaOf(event: HeraldEvent, previous: DeliveryEta | null): DeliveryEta | null {
  const eta = (at: string, rest: Partial<DeliveryEta>): DeliveryEta => ({ at, seconds: null, leg: null, distanceMeters: null, delayReason: null, updatedAt: event.timestamp, ...rest });
  switch (event.type) {
    case 'ETA_UPDATED':
      return eta(event.etaAt, { seconds: event.etaSeconds, leg: event.leg, distanceMeters: event.distanceMeters ?? null, delayReason: event.delayReason ?? null });
    case 'DELIVERY_IN_TRANSIT':
      return eta(event.etaAt, { seconds: event.etaSeconds, leg: 'TO_DROPOFF', distanceMeters: event.distanceMeters ?? null });
    case 'DELIVERY_ACCEPTED':
    case 'DELIVERY_PICKED_UP':
      return event.estimatedDeliveryAt ? eta(event.estimatedDeliveryAt, { leg: 'TO_DROPOFF' }) : previous;
    case 'DELIVERY_COMPLETED':
    case 'DELIVERY_CANCELLED':
      return null;
    default:
      return previous;
  }
}

/**
 * Folds one event of a delivery into its state. Events of another delivery are ignored; an older ETA estimate
 * never replaces a newer one (history and live can interleave).
 */
export function reduceDeliveryTracking(state: DeliveryTrackingState, event: HeraldEvent, trailLimit = 200): DeliveryTrackingState {
  if ('deliveryId' in event && event.deliveryId && event.deliveryId !== state.deliveryId) return state;
  const step = STEP_OF[event.type];
  const position = positionOf(event);
  const eta = etaOf(event, state.eta);
  return {
    deliveryId: state.deliveryId,
    step: step ?? state.step,
    eta: eta && state.eta && eta !== state.eta && eta.updatedAt < state.eta.updatedAt ? state.eta : eta,
    position: position ?? state.position,
    trail: position ? [...state.trail, position].slice(-Math.max(1, trailLimit)) : state.trail,
    lastEvent: event,
    count: state.count + 1,
  };
}

/**
 * @example
 * const { step, eta, position, status } = useDeliveryTracking('dlv_3Hm8ZpL1');
 * return <p>{step ?? 'waiting'} · {eta ? `arrives ${new Date(eta.at).toLocaleTimeString()}` : 'no ETA yet'}</p>;
 */
export function useDeliveryTracking(deliveryId: string | null | undefined, options: UseDeliveryTrackingOptions = {}): UseDeliveryTrackingResult {
  const client = useHeraldClient();
  const status = useClientStatus(client);
  const id = deliveryId ?? '';
  const [state, setState] = useState<DeliveryTrackingState>(() => emptyTracking(id));
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });

  useEffect(() => {
    if (!client || !id) return;
    const seen = new Set<string>();
    const handler = (event: HeraldEvent) => {
      if (seen.has(event.id)) return;
      seen.add(event.id);
      setState((prev) => reduceDeliveryTracking(prev.deliveryId === id ? prev : emptyTracking(id), event, latest.current.trailLimit));
      latest.current.onEvent?.(event);
    };
    try {
      return client.on('deliveryTracking', handler, { deliveryId: id, after: options.after });
    } catch (error) {
      if (isHeraldError(error) && error.code === 'CLIENT_CLOSED') return;
      throw error;
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, id]);

  const current = state.deliveryId === id ? state : emptyTracking(id);
  return { ...current, status };
}
