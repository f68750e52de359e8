/**
 * Webhook endpoints: registration (URL checked by the SSRF guard, types by the audience rule), changes, signing
 * secrets (shown only when issued; a rotated-out one keeps signing for 24 h) and test sends. Who may manage what
 * is decided by {@link createEndpointAccess}.
 */
import { typesReceivableBy, type EventLevel, type EventTypeName } from '../events/catalogue.js';
import type { Viewer } from '../events/model.js';
import { resolveTypes } from '../events/visibility.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import type { EndpointAccess } from './access.js';
import type { EndpointDirectory } from './directory.js';
import {
  activeSecrets,
  newEndpointId,
  toPublicEndpoint,
  type EndpointId,
  type EndpointPatch,
  type PublicEndpoint,
  type WebhookEndpoint,
  type WebhookMode,
} from './model.js';
import { testPayload } from './payload.js';
import type { SendResult, WebhookSender } from './sender.js';
import { buildWebhookHeaders, generateWebhookSecret } from './signing.js';
import { assertSafeWebhookUrl, type LookupFn, type UrlPolicy } from './ssrf-guard.js';
import type { WebhookStore } from './webhook-store.js';

export interface CreateEndpointInput {
  readonly url: string;
  readonly eventTypes: readonly EventTypeName[];
  /** @default 'HIGH' */
  readonly minLevel?: EventLevel | null;
  /** @default 'ALWAYS' */
  readonly mode?: WebhookMode | null;
  readonly description?: string | null;
  /** Admins only: the supplier the endpoint is for. @default the viewer */
  readonly ownerId?: string | null;
}

export type UpdateEndpointInput = Partial<{
  readonly url: string | null;
  readonly eventTypes: readonly EventTypeName[] | null;
  readonly minLevel: EventLevel | null;
  readonly mode: WebhookMode | null;
  readonly description: string | null;
}>;

export interface EndpointApi {
  /** The viewer's endpoints; an admin's: all, or those of `ownerId`. */
  list(viewer: Viewer, ownerId?: string): Promise<PublicEndpoint[]>;
  get(viewer: Viewer, id: EndpointId): Promise<PublicEndpoint>;
  /** @throws UnsafeUrlError (UNSAFE_URL) for a refused URL; ValidationError; ForbiddenError. */
  create(viewer: Viewer, input: CreateEndpointInput): Promise<{ endpoint: PublicEndpoint; secret: string }>;
  update(viewer: Viewer, id: EndpointId, input: UpdateEndpointInput): Promise<PublicEndpoint>;
  /** Deletes the endpoint with its delivery log. */
  remove(viewer: Viewer, id: EndpointId): Promise<boolean>;
  /** A new secret; the previous ones keep signing for `secretGraceMs`. */
  rotateSecret(viewer: Viewer, id: EndpointId): Promise<{ endpoint: PublicEndpoint; secret: string }>;
  setEnabled(viewer: Viewer, id: EndpointId, enabled: boolean): Promise<PublicEndpoint>;
  /** Sends a signed `webhook_test` message now (not logged, not retried) and reports the result. */
  sendTest(viewer: Viewer, id: EndpointId): Promise<SendResult>;
}

export interface EndpointApiOptions {
  readonly store: WebhookStore;
  readonly directory: EndpointDirectory;
  readonly access: EndpointAccess;
  readonly sender: WebhookSender;
  /** URL rules at registration (`WEBHOOK_ALLOW_HTTP`, `WEBHOOK_ALLOW_PRIVATE_NETWORKS`). */
  readonly policy: UrlPolicy;
  /** @default the system resolver */
  readonly lookup?: LookupFn;
  /** Told when an enabled endpoint may have deliveries to send. */
  readonly onQueued?: (endpointIds: readonly EndpointId[]) => void;
  /** @default 50 */
  readonly maxEndpointsPerOwner?: number;
  /** @default 86_400_000 (24 h) */
  readonly secretGraceMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

const MAX_URL = 2048;
const MAX_DESCRIPTION = 500;

const invalid = (field: string, message: string) => new ValidationError(`${field}: ${message}`, { details: { field } });

export function createEndpointApi(options: EndpointApiOptions): EndpointApi {
  const { store, directory, sender, access } = options;
  const { mayManage, owned } = access;
  const now = options.now ?? Date.now;
  const maxPerOwner = options.maxEndpointsPerOwner ?? 50;
  const graceMs = options.secretGraceMs ?? 86_400_000;

  const checkUrl = async (url: string): Promise<string> => {
    const trimmed = url.trim();
    if (trimmed.length === 0 || trimmed.length > MAX_URL) throw invalid('url', `must be 1-${MAX_URL} characters`);
    return (await assertSafeWebhookUrl(trimmed, options.policy, options.lookup)).toString();
  };

  const checkTypes = (owner: Viewer, types: readonly EventTypeName[]): EventTypeName[] => {
    if (types.length === 0) {
      throw invalid('eventTypes', `choose at least one event type (e.g. ${typesReceivableBy('supplier').slice(0, 2).join(', ')})`);
    }
    return [...new Set(resolveTypes(owner, types) ?? types)];
  };

  const checkDescription = (description: string | null | undefined): string | null => {
    if (description === null || description === undefined) return null;
    if (description.length > MAX_DESCRIPTION) throw invalid('description', `at most ${MAX_DESCRIPTION} characters`);
    return description;
  };

  const save = async (id: EndpointId, patch: EndpointPatch): Promise<WebhookEndpoint> => {
    const updated = await store.updateEndpoint(id, patch, now());
    if (!updated) throw new NotFoundError(`No webhook endpoint ${JSON.stringify(id)}`);
    directory.put(updated);
    return updated;
  };

  return {
    async list(viewer, ownerId) {
      mayManage(viewer);
      if (viewer.role !== 'admin' && ownerId !== undefined && ownerId !== viewer.userId) {
        throw new ForbiddenError("Only admins may list other owners' webhook endpoints");
      }
      const owner = viewer.role === 'admin' ? ownerId : viewer.userId;
      return (await store.listEndpoints(owner === undefined ? {} : { ownerId: owner })).map(toPublicEndpoint);
    },

    async get(viewer, id) {
      return toPublicEndpoint(await owned(viewer, id));
    },

    async create(viewer, input) {
      mayManage(viewer);
      if (input.ownerId != null && input.ownerId !== viewer.userId && viewer.role !== 'admin') {
        throw new ForbiddenError('Only admins may create webhook endpoints for another owner');
      }
      // An admin creating for someone else creates for a supplier: webhooks are the suppliers' channel.
      const owner: Viewer =
        input.ownerId != null && input.ownerId !== viewer.userId ? { userId: input.ownerId, role: 'supplier' } : viewer;
      const eventTypes = checkTypes(owner, input.eventTypes);
      const description = checkDescription(input.description);
      const url = await checkUrl(input.url);
      if ((await store.countEndpoints(owner.userId)) >= maxPerOwner) {
        throw new ValidationError(`An owner may have at most ${maxPerOwner} webhook endpoints`);
      }
      const at = now();
      const secret = generateWebhookSecret();
      const endpoint: WebhookEndpoint = {
        id: newEndpointId(at),
        ownerId: owner.userId,
        ownerRole: owner.role,
        url,
        description,
        eventTypes,
        minLevel: input.minLevel ?? 'HIGH',
        mode: input.mode ?? 'ALWAYS',
        enabled: true,
        disabledReason: null,
        disabledAt: null,
        failingSince: null,
        secrets: [{ secret, createdAt: at, expiresAt: null }],
        createdAt: at,
        updatedAt: at,
      };
      await store.insertEndpoint(endpoint);
      directory.put(endpoint);
      return { endpoint: toPublicEndpoint(endpoint), secret };
    },

    async update(viewer, id, input) {
      const endpoint = await owned(viewer, id);
      const owner: Viewer = { userId: endpoint.ownerId, role: endpoint.ownerRole };
      return toPublicEndpoint(
        await save(id, {
          url: input.url == null ? undefined : await checkUrl(input.url),
          eventTypes: input.eventTypes == null ? undefined : checkTypes(owner, input.eventTypes),
          minLevel: input.minLevel ?? undefined,
          mode: input.mode ?? undefined,
          description: input.description === undefined ? undefined : checkDescription(input.description),
        }),
      );
    },

    async remove(viewer, id) {
      await owned(viewer, id);
      const removed = await store.deleteEndpoint(id);
      directory.remove(id);
      return removed;
    },

    async rotateSecret(viewer, id) {
      const endpoint = await owned(viewer, id);
      const at = now();
      const secret = generateWebhookSecret();
      const previous = endpoint.secrets
        .filter((s) => s.expiresAt === null || s.expiresAt > at)
        .map((s) => ({ ...s, expiresAt: Math.min(s.expiresAt ?? Infinity, at + graceMs) }));
      const updated = await save(id, { secrets: [{ secret, createdAt: at, expiresAt: null }, ...previous] });
      return { endpoint: toPublicEndpoint(updated), secret };
    },

    async setEnabled(viewer, id, enabled) {
      await owned(viewer, id);
      const updated = await save(
        id,
        enabled
          ? { enabled: true, disabledReason: null, disabledAt: null, failingSince: null }
          : { enabled: false, disabledReason: 'MANUAL', disabledAt: now() },
      );
      if (enabled) options.onQueued?.([id]);
      return toPublicEndpoint(updated);
    },

    async sendTest(viewer, id) {
      const endpoint = await owned(viewer, id);
      const at = now();
      const body = testPayload(endpoint.id, at);
      const msgId = `msg_${newEndpointId(at).slice('whe_'.length)}`;
      const headers = buildWebhookHeaders({ msgId, timestamp: Math.floor(at / 1000), body, secrets: activeSecrets(endpoint, at) });
      return sender.send({ url: endpoint.url, headers: { ...headers }, body });
    },

  };
}
