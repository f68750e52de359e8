/**
 * Which queued frames a newer one may replace: a delivery's position and ETA only matter at their
 * latest value, so while a slow connection's queue holds an older `location_updated` or `eta_updated`
 * for the same delivery, the newer one takes its place. Every other event is always delivered.
 */
import type { HeraldEvent } from '../events/model.js';

const COLLAPSIBLE = new Set<string>(['location_updated', 'eta_updated']);

/** The collapse key of an event (within one subscription), or undefined when it must never be dropped. */
export function collapseKey(event: HeraldEvent): string | undefined {
  return event.deliveryId !== null && COLLAPSIBLE.has(event.type) ? `${event.type}:${event.deliveryId}` : undefined;
}
