/**
 * The narrow contract every webhook store implements (SQLite embedded, MongoDB). Nothing here needs a
 * transaction spanning collections: the outbox is filled by a consumer of the event log that keeps its own
 * cursor, and deliveries are claimed with leases, so every method is safe on FerretDB too.
 */
import type { DeliveryAttempt, DeliveryId, DeliveryStatus, EndpointId, EndpointPatch, WebhookDelivery, WebhookEndpoint } from './model.js';

/** The fields a finished attempt changes on its delivery. */
export interface DeliveryUpdate {
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly scheduleStep: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | null;
  readonly updatedAt: number;
}

/** The result of one attempt: applied only while the claim `leaseId` still holds the delivery. */
export interface AttemptRecord {
  readonly deliveryId: DeliveryId;
  readonly endpointId: EndpointId;
  readonly leaseId: string;
  readonly update: DeliveryUpdate;
  readonly attempt: DeliveryAttempt;
}

export interface DeliveryQuery {
  readonly endpointId: EndpointId;
  readonly status?: DeliveryStatus;
  /** Keyset: deliveries with a smaller id (older) than this one. */
  readonly beforeId?: DeliveryId;
  readonly limit: number;
}

export interface WebhookStore {
  /** `sqlite` or `mongodb`. */
  readonly kind: string;

  insertEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  getEndpoint(id: EndpointId): Promise<WebhookEndpoint | null>;
  /** Oldest first; every endpoint when no owner is given. */
  listEndpoints(query?: { readonly ownerId?: string }): Promise<WebhookEndpoint[]>;
  countEndpoints(ownerId: string): Promise<number>;
  /** Applies `patch` and sets `updatedAt`; null when there is no such endpoint. */
  updateEndpoint(id: EndpointId, patch: EndpointPatch, updatedAt: number): Promise<WebhookEndpoint | null>;
  /** Deletes the endpoint with its deliveries and their attempts; false when it did not exist. */
  deleteEndpoint(id: EndpointId): Promise<boolean>;

  /** Seq of the last event the enqueuer has fully processed; null before its first run. */
  readCursor(): Promise<number | null>;
  /**
   * Inserts the deliveries that do not exist yet for their (endpointId, eventId), then moves the enqueuer's
   * cursor to `cursor` when given. Safe to repeat after a crash: existing pairs are left untouched.
   * @returns how many were inserted.
   */
  enqueue(deliveries: readonly WebhookDelivery[], cursor?: number): Promise<number>;
  /**
   * Replay: inserts absent deliveries and makes existing finished ones pending again (new schedule round,
   * due at their `nextAttemptAt`). Pending ones are left alone. @returns how many were queued.
   */
  requeue(deliveries: readonly WebhookDelivery[]): Promise<number>;

  /** Endpoints with deliveries due at `now` and not leased. */
  dueEndpoints(now: number, limit: number): Promise<EndpointId[]>;
  /**
   * Atomically leases up to `limit` due, unleased pending deliveries of one endpoint (oldest due first) until
   * `leaseUntil`, marking them with `leaseId`. A delivery is never leased by two claims at once.
   */
  claim(endpointId: EndpointId, now: number, leaseUntil: number, leaseId: string, limit: number): Promise<WebhookDelivery[]>;
  /** Records attempts: each delivery is updated (and its lease dropped) only if still held by its `leaseId`. */
  complete(records: readonly AttemptRecord[]): Promise<void>;
  /** Gives deliveries back without an attempt (shutdown, endpoint disabled meanwhile). */
  release(ids: readonly DeliveryId[], leaseId: string): Promise<void>;
  /**
   * Start-up recovery. A store only one process can use (SQLite) releases every lease: their holders died with
   * the previous process, so a restart resumes at once. A shared store (MongoDB) releases none: other instances
   * may hold them, and they lapse by themselves. @returns how many were released.
   */
  releaseStaleLeases(): Promise<number>;

  getDelivery(id: DeliveryId): Promise<WebhookDelivery | null>;
  /** Newest first. */
  listDeliveries(query: DeliveryQuery): Promise<WebhookDelivery[]>;
  /** Attempts of these deliveries, by delivery then oldest first. */
  listAttempts(ids: readonly DeliveryId[]): Promise<DeliveryAttempt[]>;
  /** Deletes finished deliveries created before `before`, with their attempts. @returns how many. */
  purgeBefore(before: number): Promise<number>;

  /** Releases resources the store opened itself (never the shared event store's connection). */
  close(): Promise<void>;
}
