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
  /** Stops delivering to the subscriber (same as calling what `add` returned). Idempotent. */
  remove(subscriber: LiveSubscriber): void;
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

function removeFrom<K>(index: Index<K>, key: K, sub: LiveSubscriber): boolean {
  const set = index.get(key);
  if (!set?.delete(sub)) return false;
  if (set.size === 0) index.delete(key);
  return true;
}

/**
 * Subscribers by a key most keys have one of (a user's own subscriptions): the subscriber itself, or an array
 * once there are several, so a connection costs no Set of its own.
 */
type Bucket = LiveSubscriber | LiveSubscriber[];
type SmallIndex = Map<string, Bucket>;

function addToSmall(index: SmallIndex, key: string, sub: LiveSubscriber) {
  const bucket = index.get(key);
  if (bucket === undefined) index.set(key, sub);
  else if (Array.isArray(bucket)) bucket.push(sub);
  else index.set(key, [bucket, sub]);
}

function removeFromSmall(index: SmallIndex, key: string, sub: LiveSubscriber): boolean {
  const bucket = index.get(key);
  if (bucket === sub) return index.delete(key);
  if (!Array.isArray(bucket)) return false;
  const at = bucket.indexOf(sub);
  if (at < 0) return false;
  bucket.splice(at, 1);
  if (bucket.length === 1) index.set(key, bucket[0]!);
  return true;
}

const each = (bucket: Bucket): readonly LiveSubscriber[] => (Array.isArray(bucket) ? bucket : [bucket]);

export function createRouter(): Router {
  const byUser: SmallIndex = new Map();
  const byRole: Index<Role> = new Map();
  const byDelivery: SmallIndex = new Map();
  const admins = new Set<LiveSubscriber>();
  let size = 0;

  const wants = (sub: LiveSubscriber, event: HeraldEvent) => sub.types === null || sub.types.has(event.type);

  function remove(sub: LiveSubscriber): void {
    let removed: boolean;
    if (sub.deliveryId !== undefined) removed = removeFromSmall(byDelivery, sub.deliveryId, sub);
    else if (sub.viewer.role === 'admin') removed = admins.delete(sub);
    else {
      removed = removeFromSmall(byUser, sub.viewer.userId, sub);
      removeFrom(byRole, sub.viewer.role, sub);
    }
    if (removed) size--;
  }

  return {
    get size() {
      return size;
    },
    add(sub) {
      size++;
      if (sub.deliveryId !== undefined) addToSmall(byDelivery, sub.deliveryId, sub);
      else if (sub.viewer.role === 'admin') admins.add(sub);
      else {
        addToSmall(byUser, sub.viewer.userId, sub);
        addTo(byRole, sub.viewer.role, sub);
      }
      return () => remove(sub);
    },
    remove,
    hasLiveSubscriber(userId, event) {
      for (const sub of admins) if (sub.viewer.userId === userId && wants(sub, event)) return true;
      const subs = byUser.get(userId);
      if (!subs) return false;
      for (const sub of each(subs)) {
        if (!wants(sub, event) || !roleMayReceive(sub.viewer.role, event.type)) continue;
        if (event.userId === userId || event.roles.includes(sub.viewer.role)) return true;
      }
      return false;
    },
    dispatch(event) {
      for (const sub of admins) if (wants(sub, event)) sub.push(event);

      const direct = event.userId === null ? undefined : byUser.get(event.userId);
      if (direct) {
        if (Array.isArray(direct)) {
          // A copy: a push may end a subscription of this user (slow consumer) while we iterate.
          for (const sub of [...direct]) if (wants(sub, event) && roleMayReceive(sub.viewer.role, event.type)) sub.push(event);
        } else if (wants(direct, event) && roleMayReceive(direct.viewer.role, event.type)) direct.push(event);
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
        if (tracking) for (const sub of Array.isArray(tracking) ? [...tracking] : [tracking]) if (wants(sub, event)) sub.push(event);
      }
    },
  };
}
