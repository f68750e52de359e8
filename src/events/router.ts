/**
 * Live fan-out. Subscribers are indexed by user id, by role and by delivery, so dispatching an
 * event touches only the subscribers it is addressed to, never every connection.
 */
import { roleMayReceive, type EventTypeName, type Role } from './catalogue.js';
import type { HeraldEvent, Viewer } from './model.js';

export interface LiveSubscriber {
  readonly viewer: Viewer;
  /** Types wanted; null = every type the viewer may receive. */
  readonly types: ReadonlySet<EventTypeName> | null;
  /** When set, the subscriber tracks this delivery (already authorized) instead of its own events. */
  readonly deliveryId?: string;
  push(event: HeraldEvent): void;
}

export interface Router {
  /** Starts delivering matching events to the subscriber; returns the function that stops it. */
  add(subscriber: LiveSubscriber): () => void;
  dispatch(event: HeraldEvent): void;
  /** Whether this user has a live (non-tracking) subscription that receives this event now. */
  hasLiveSubscriber(userId: string, event: HeraldEvent): boolean;
  readonly size: number;
}

type Index<K> = Map<K, Set<LiveSubscriber>>;

function addTo<K>(index: Index<K>, key: K, sub: LiveSubscriber) {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(sub);
}

function removeFrom<K>(index: Index<K>, key: K, sub: LiveSubscriber) {
  const set = index.get(key);
  if (set?.delete(sub) && set.size === 0) index.delete(key);
}

export function createRouter(): Router {
  const byUser: Index<string> = new Map();
  const byRole: Index<Role> = new Map();
  const byDelivery: Index<string> = new Map();
  const admins = new Set<LiveSubscriber>();
  let size = 0;

  const wants = (sub: LiveSubscriber, event: HeraldEvent) => sub.types === null || sub.types.has(event.type);

  return {
    get size() {
      return size;
    },
    add(sub) {
      size++;
      if (sub.deliveryId !== undefined) addTo(byDelivery, sub.deliveryId, sub);
      else if (sub.viewer.role === 'admin') admins.add(sub);
      else {
        addTo(byUser, sub.viewer.userId, sub);
        addTo(byRole, sub.viewer.role, sub);
      }
      let removed = false;
      return () => {
        if (removed) return;
        removed = true;
        size--;
        if (sub.deliveryId !== undefined) removeFrom(byDelivery, sub.deliveryId, sub);
        else if (sub.viewer.role === 'admin') admins.delete(sub);
        else {
          removeFrom(byUser, sub.viewer.userId, sub);
          removeFrom(byRole, sub.viewer.role, sub);
        }
      };
    },
    hasLiveSubscriber(userId, event) {
      for (const sub of admins) if (sub.viewer.userId === userId && wants(sub, event)) return true;
      const subs = byUser.get(userId);
      if (!subs) return false;
      for (const sub of subs) {
        if (!wants(sub, event) || !roleMayReceive(sub.viewer.role, event.type)) continue;
        if (event.userId === userId || event.roles.includes(sub.viewer.role)) return true;
      }
      return false;
    },
    dispatch(event) {
      for (const sub of admins) if (wants(sub, event)) sub.push(event);

      const direct = event.userId === null ? undefined : byUser.get(event.userId);
      if (direct) {
        for (const sub of direct) {
          if (wants(sub, event) && roleMayReceive(sub.viewer.role, event.type)) sub.push(event);
        }
      }
      for (const role of event.roles) {
        if (role === 'admin' || !roleMayReceive(role, event.type)) continue;
        const subs = byRole.get(role);
        if (!subs) continue;
        for (const sub of subs) {
          // Already served through the direct index.
          if (direct !== undefined && sub.viewer.userId === event.userId) continue;
          if (wants(sub, event)) sub.push(event);
        }
      }
      if (event.deliveryId !== null) {
        const tracking = byDelivery.get(event.deliveryId);
        if (tracking) for (const sub of tracking) if (wants(sub, event)) sub.push(event);
      }
    },
  };
}
