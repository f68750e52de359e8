/**
 * Webhook domain types: endpoints, deliveries (the outbox) and the attempt log. Attempt states are
 * `pending -> succeeded | failed`; a failed delivery can be replayed, which makes it pending again.
 */
import type { EventLevel, EventTypeName, Role } from '../events/catalogue.js';
import type { EventId } from '../events/model.js';
import { newEventId } from '../events/ids.js';

/** `whe_` + a ULID. */
export type EndpointId = string & { readonly __brand: 'EndpointId' };
/** `whd_` + a ULID: sorts by creation time, which the delivery log's pagination relies on. */
export type DeliveryId = string & { readonly __brand: 'DeliveryId' };

/** `ALWAYS`, or only events the owner had no live subscription to receive when they were published. */
export type WebhookMode = 'ALWAYS' | 'WHEN_OFFLINE';
export type DisabledReason = 'GONE' | 'FAILING' | 'MANUAL';
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';
export type AttemptErrorKind = 'timeout' | 'connect' | 'dns' | 'unsafe_address' | 'http_status' | 'network' | 'too_large';

/** A signing secret. Rotation keeps the previous one valid until `expiresAt`, so both sign meanwhile. */
export interface WebhookSecret {
  /** `whsec_<base64>`. Stored, because HMAC needs it; never logged, returned once. */
  readonly secret: string;
  readonly createdAt: number;
  /** ms since the epoch; null = no expiry (the current secret). */
  readonly expiresAt: number | null;
}

export interface WebhookEndpoint {
  readonly id: EndpointId;
  readonly ownerId: string;
  /** The owner's role, for the audience rule (`supplier`, or `admin`). */
  readonly ownerRole: Role;
  readonly url: string;
  readonly description: string | null;
  readonly eventTypes: readonly EventTypeName[];
  readonly minLevel: EventLevel;
  readonly mode: WebhookMode;
  readonly enabled: boolean;
  readonly disabledReason: DisabledReason | null;
  readonly disabledAt: number | null;
  /** Start of the current run of failures; null after any success. */
  readonly failingSince: number | null;
  readonly secrets: readonly WebhookSecret[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What the API hands out: everything but the secrets. */
export type PublicEndpoint = Omit<WebhookEndpoint, 'secrets'> & {
  /** When the current secret was issued. */
  readonly secretCreatedAt: number;
};

/** Fields of an endpoint that may change after creation. */
export type EndpointPatch = Partial<
  Pick<
    WebhookEndpoint,
    'url' | 'description' | 'eventTypes' | 'minLevel' | 'mode' | 'enabled' | 'disabledReason' | 'disabledAt' | 'failingSince' | 'secrets'
  >
>;

/** One event to deliver to one endpoint. Unique per (endpointId, eventId). */
export interface WebhookDelivery {
  readonly id: DeliveryId;
  readonly endpointId: EndpointId;
  readonly eventId: EventId;
  readonly eventSeq: number;
  readonly eventType: EventTypeName;
  readonly status: DeliveryStatus;
  /** Attempts made in total (numbers the attempt log). */
  readonly attempts: number;
  /** Attempts made in the current round of the retry schedule; a replay starts a new round. */
  readonly scheduleStep: number;
  readonly nextAttemptAt: number;
  /** A worker owns the delivery until then (ms since the epoch; 0 = free). */
  readonly leaseUntil: number;
  /** Identifies the claim, so a worker whose lease lapsed cannot overwrite a newer claim's result. */
  readonly leaseId: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastError: string | null;
}

/** One HTTP attempt of a delivery, as shown in the delivery log. */
export interface DeliveryAttempt {
  readonly deliveryId: DeliveryId;
  /** 1-based, over the delivery's whole life. */
  readonly n: number;
  readonly at: number;
  readonly httpStatus: number | null;
  readonly latencyMs: number;
  readonly errorKind: AttemptErrorKind | null;
  /** A short description of the failure; never contains secrets. */
  readonly error: string | null;
  /** The receiver's response body, truncated to 4 KB. */
  readonly responseBody: string | null;
}

/** A delivery with its attempts, oldest first. */
export interface DeliveryView extends WebhookDelivery {
  readonly attemptLog: readonly DeliveryAttempt[];
}

const ulid = (now: number) => newEventId(now).slice('evt_'.length);

export const newEndpointId = (now = Date.now()): EndpointId => `whe_${ulid(now)}` as EndpointId;
export const newDeliveryId = (now = Date.now()): DeliveryId => `whd_${ulid(now)}` as DeliveryId;

export const toPublicEndpoint = ({ secrets, ...endpoint }: WebhookEndpoint): PublicEndpoint => ({
  ...endpoint,
  secretCreatedAt: secrets.find((s) => s.expiresAt === null)?.createdAt ?? endpoint.createdAt,
});

/** Secrets that sign right now: the current one and any rotated-out one still within its grace period. */
export const activeSecrets = (endpoint: Pick<WebhookEndpoint, 'secrets'>, now: number): string[] =>
  endpoint.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => s.secret);

/** A fresh pending delivery of `event` to `endpoint`, due after the schedule's first delay. */
export function newDelivery(
  endpoint: Pick<WebhookEndpoint, 'id'>,
  event: { readonly id: EventId; readonly seq: number; readonly type: EventTypeName },
  now: number,
  firstDelayMs = 0,
): WebhookDelivery {
  return {
    id: newDeliveryId(now),
    endpointId: endpoint.id,
    eventId: event.id,
    eventSeq: event.seq,
    eventType: event.type,
    status: 'pending',
    attempts: 0,
    scheduleStep: 0,
    nextAttemptAt: now + firstDelayMs,
    leaseUntil: 0,
    leaseId: null,
    createdAt: now,
    updatedAt: now,
    lastError: null,
  };
}
