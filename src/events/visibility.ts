/**
 * Who may see what: the audience rule, applied identically to live fan-out, replay and queries.
 * A viewer sees an event iff the viewer is an admin, or (event.userId is the viewer, or the viewer's
 * role is in event.roles) and the catalogue lets that role receive that type.
 */
import { roleMayReceive, typesReceivableBy, type EventTypeName } from './catalogue.js';
import type { Audience } from './event-store.js';
import type { NewEvent, Viewer } from './model.js';
import { ForbiddenError } from '../errors.js';

export function canSee(viewer: Viewer, event: Pick<NewEvent, 'type' | 'userId' | 'roles'>): boolean {
  if (viewer.role === 'admin') return true;
  if (!roleMayReceive(viewer.role, event.type)) return false;
  return event.userId === viewer.userId || event.roles.includes(viewer.role);
}

/**
 * The types a subscription or query covers: all receivable ones when none are requested.
 * Requesting a type the role may never receive is refused (FORBIDDEN), not silently dropped.
 */
export function resolveTypes(viewer: Viewer, requested: readonly EventTypeName[] | undefined): readonly EventTypeName[] | undefined {
  if (viewer.role === 'admin') return requested;
  if (!requested) return typesReceivableBy(viewer.role);
  const refused = requested.filter((t) => !roleMayReceive(viewer.role, t));
  if (refused.length) {
    throw new ForbiddenError(`Role ${viewer.role} may not receive ${refused.join(', ')}`, { details: { types: refused } });
  }
  return requested;
}

/** The store-side audience filter for a viewer; undefined for admins (no restriction). */
export function audienceOf(viewer: Viewer, types: readonly EventTypeName[] | undefined): Audience | undefined {
  if (viewer.role === 'admin') return undefined;
  return { userId: viewer.userId, role: viewer.role, types: types ?? typesReceivableBy(viewer.role) };
}
