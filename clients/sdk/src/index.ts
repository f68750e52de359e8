/**
 * @herald/sdk: typed clients for a Herald hub.
 * - `createHeraldClient`: live events over WebSocket or SSE that never skip or repeat one.
 * - `createHeraldPublisher`: typed, idempotent, retried publishing for services.
 */
export { createHeraldClient } from './client.js';
export type {
  ConnectionState,
  HeraldClient,
  HeraldClientOptions,
  HeraldClientStatus,
  HeraldEvent,
  OnOptions,
  TrackingOptions,
  TransportOption,
  TypedDocumentLike,
} from './client-types.js';
export { createHeraldPublisher, PublishManyError } from './publisher.js';
export type { HeraldPublisher, HeraldPublisherOptions, PublishItem, PublishOptions, PublishedEvent } from './publisher.js';
export { HeraldError, isHeraldError } from './errors.js';
export type { ClientErrorCode, HeraldErrorCode, ServerErrorCode } from './errors.js';
export type { GapInfo, SubscriptionStatus, SubscriptionTarget } from './subscription.js';
export type { OperationHandlers } from './operation.js';
export type { CursorStorage, StorageOption, WebStorageLike } from './storage.js';
export type { TransportKind } from './connection.js';
export type { FetchLike } from './runtime.js';
export { backoffDelay } from './backoff.js';
export { EVENT_TYPES, EVENT_TYPENAMES } from './generated/events.js';
export type { EventMap, EventTypeName, PayloadMap } from './generated/events.js';
export type * as Schema from './generated/schema.js';
export { CloseCode, HeraldCloseCode } from '../../protocol/index.js';
