/**
 * The endpoints in memory, indexed like the live router (by owner, by owner role, admins), so matching an
 * event touches only the endpoints it could go to. Kept current by the API and the dispatcher as they change
 * endpoints, and reloaded from the store periodically (other instances may change them).
 */
import { levelAtLeast, type Role } from '../events/catalogue.js';
import type { HeraldEvent } from '../events/model.js';
import { canSee } from '../events/visibility.js';
import type { EndpointId, WebhookEndpoint } from './model.js';
import type { WebhookStore } from './webhook-store.js';

/**
 * Whether `event` is for `endpoint`: enabled, published after the endpoint was created, visible to its owner
 * under the audience rule (the same `canSee` as live subscriptions), of a chosen type and at least `minLevel`.
 * `WHEN_OFFLINE` is decided separately (it depends on presence at publish time).
 */
export function endpointWants(endpoint: WebhookEndpoint, event: HeraldEvent): boolean {
  return (
    endpoint.enabled &&
    event.timestamp >= endpoint.createdAt &&
    endpoint.eventTypes.includes(event.type) &&
    levelAtLeast(event.level, endpoint.minLevel) &&
    canSee({ userId: endpoint.ownerId, role: endpoint.ownerRole }, event)
  );
}

export interface EndpointDirectory {
  get(id: EndpointId): WebhookEndpoint | undefined;
  /** Every endpoint, enabled or not (health metrics). */
  all(): Iterable<WebhookEndpoint>;
  /** Endpoints that want `event` (see {@link endpointWants}). */
  candidates(event: HeraldEvent): WebhookEndpoint[];
  /** Whether any enabled endpoint uses `WHEN_OFFLINE` (presence is recorded only then). */
  hasWhenOffline(): boolean;
  /** Records a created or changed endpoint. */
  put(endpoint: WebhookEndpoint): void;
  remove(id: EndpointId): void;
  /** Reloads every endpoint from the store. */
  reload(): Promise<void>;
}

export function createEndpointDirectory(store: Pick<WebhookStore, 'listEndpoints'>): EndpointDirectory {
  let byId = new Map<EndpointId, WebhookEndpoint>();
  let byOwner = new Map<string, WebhookEndpoint[]>();
  let byRole = new Map<Role, WebhookEndpoint[]>();
  let admins: WebhookEndpoint[] = [];
  let whenOffline = 0;
  let dirty = false;
  /** Changes made while a reload reads the store: re-applied on top of what it read, which may predate them. */
  let duringReload: Map<EndpointId, WebhookEndpoint | null> | undefined;

  const reindex = () => {
    dirty = false;
    byOwner = new Map();
    byRole = new Map();
    admins = [];
    whenOffline = 0;
    for (const endpoint of byId.values()) {
      if (!endpoint.enabled) continue;
      if (endpoint.mode === 'WHEN_OFFLINE') whenOffline++;
      if (endpoint.ownerRole === 'admin') {
        admins.push(endpoint);
        continue;
      }
      const owned = byOwner.get(endpoint.ownerId) ?? [];
      owned.push(endpoint);
      byOwner.set(endpoint.ownerId, owned);
      const sameRole = byRole.get(endpoint.ownerRole) ?? [];
      sameRole.push(endpoint);
      byRole.set(endpoint.ownerRole, sameRole);
    }
  };
  const fresh = () => {
    if (dirty) reindex();
  };

  return {
    get: (id) => byId.get(id),
    all: () => byId.values(),
    candidates(event) {
      fresh();
      const found: WebhookEndpoint[] = admins.filter((e) => endpointWants(e, event));
      const direct = event.userId === null ? undefined : byOwner.get(event.userId);
      if (direct) for (const e of direct) if (endpointWants(e, event)) found.push(e);
      for (const role of event.roles) {
        for (const e of byRole.get(role) ?? []) {
          if (e.ownerId !== event.userId && endpointWants(e, event)) found.push(e);
        }
      }
      return found;
    },
    hasWhenOffline() {
      fresh();
      return whenOffline > 0;
    },
    put(endpoint) {
      byId.set(endpoint.id, endpoint);
      duringReload?.set(endpoint.id, endpoint);
      dirty = true;
    },
    remove(id) {
      duringReload?.set(id, null);
      if (byId.delete(id)) dirty = true;
    },
    async reload() {
      const changes = new Map<EndpointId, WebhookEndpoint | null>();
      duringReload = changes;
      try {
        const all = await store.listEndpoints();
        byId = new Map(all.map((e) => [e.id, e]));
        for (const [id, endpoint] of changes) {
          if (endpoint) byId.set(id, endpoint);
          else byId.delete(id);
        }
        reindex();
      } finally {
        if (duringReload === changes) duringReload = undefined;
      }
    },
  };
}
