/**
 * The client's public shapes: its options (each with its `@default`), its status, and the `HeraldClient`
 * interface. The behaviour is in client.ts.
 */
import type { TransportKind } from './connection.js';
import type { HeraldError } from './errors.js';
import type { EventMap, EventTypeName } from './generated/events.js';
import type { FetchLike } from './runtime.js';
import type { StorageOption } from './storage.js';
import type { GapInfo, SubscriptionStatus } from './subscription.js';
import type { OperationHandlers } from './operation.js';

/** Any event, as a subscription delivers it: a union discriminated by `type` (and `__typename`). */
export type HeraldEvent = EventMap[EventTypeName];

export type TransportOption = 'auto' | 'websocket' | 'ws' | 'sse';

export interface HeraldClientOptions {
  /** The hub's GraphQL URL, `http(s)://host/graphql`; the WebSocket URL is derived from it (`ws(s)://`). */
  readonly url: string;
  /** A fixed token. With a fixed token, "token expired" (4401) stops the client: prefer `getToken`. */
  readonly token?: string;
  /** Asked before every connection (and every SSE stream): return a token that is valid now. */
  readonly getToken?: () => string | Promise<string>;
  /** @default 'auto' (WebSocket, falling back to SSE when WebSocket cannot get through) */
  readonly transport?: TransportOption;
  /** The WebSocket URL when it is not `url` with `ws(s)://`. */
  readonly wsUrl?: string;
  /** A WebSocket class where there is no global one (Node 20: `import WebSocket from 'ws'`). @default globalThis.WebSocket */
  readonly webSocketImpl?: unknown;
  /** @default globalThis.fetch */
  readonly fetch?: FetchLike;
  /** Keeps each subscription's last cursor (e.g. `localStorage`), so a reloaded page resumes where it left. @default none */
  readonly storage?: StorageOption;
  /** Prefix of the storage keys. @default 'herald:cursor:' */
  readonly storagePrefix?: string;
  /** Upper bound of the first reconnect delay (full jitter: the delay is random below it). @default 1000 */
  readonly initialRetryDelayMs?: number;
  /** Cap of reconnect delays. @default 30000 */
  readonly maxRetryDelayMs?: number;
  /** A connection that stayed up this long resets the backoff. @default 5000 */
  readonly stableAfterMs?: number;
  /** From opening a WebSocket to `connection_ack`, or from an SSE request to its response. @default 10000 */
  readonly connectTimeoutMs?: number;
  /** WebSocket: a ping this long after the last pong. @default 15000 */
  readonly keepAliveMs?: number;
  /** WebSocket: a ping unanswered (and no other traffic) this long ends the connection. @default 10000 */
  readonly pongTimeoutMs?: number;
  /** SSE: a stream silent this long is broken (Herald sends a heartbeat at least every 15 s). @default 45000 */
  readonly sseIdleTimeoutMs?: number;
  /** `auto` on SSE: the longest wait between tries of WebSocket (the first comes after 5 s, each next one twice as late). @default 300000 */
  readonly webSocketRetryMs?: number;
  /** The hub refused a cursor as too old or unknown: events were missed; the subscription goes on live. @default none */
  readonly onGap?: (gap: GapInfo) => void;
  /** Errors that do not stop the client (a handler threw, a subscription was refused, a reconnect failed). @default none */
  readonly onError?: (error: HeraldError, subscriptionKey?: string) => void;
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface HeraldClientStatus {
  /** `disconnected`: no subscriptions, `close()` was called, or the hub said stop (see `error`). */
  readonly state: ConnectionState;
  readonly transport: TransportKind | null;
  /** `auto` is on SSE because WebSocket could not get through. */
  readonly fallback: boolean;
  readonly subscriptions: readonly SubscriptionStatus[];
  /** Cursor of the last event handed to any handler. */
  readonly lastCursor: string | null;
  /** Consecutive failed connection attempts (0 once a connection is up and stable). */
  readonly reconnectAttempts: number;
  /** How the last connection ended. */
  readonly lastClose: { readonly code: number; readonly reason: string } | null;
  /** Why the client stopped (4403, 4031...), or the last failure while it keeps trying. */
  readonly error: HeraldError | null;
}

export interface OnOptions {
  /** Start from this cursor (replay what was logged after it) instead of the stored one or live. */
  readonly after?: string;
}

export interface TrackingOptions extends OnOptions {
  readonly deliveryId: string;
}

/** GraphQL documents typed by codegen (client-preset's `TypedDocumentString`, or a plain string). */
export interface TypedDocumentLike<TData, TVariables> {
  readonly __apiType?: (variables: TVariables) => TData;
  toString(): string;
}

export interface HeraldClient {
  /**
   * Calls `handler` with every event of these types (or `'*'`: every type the viewer may receive) exactly once,
   * in log order, across reconnects. Returns a function that removes the handler.
   * @example client.on('ORDER_CREATED', (e) => console.log(e.orderId, e.amount));
   */
  on<T extends EventTypeName>(types: T | readonly T[], handler: (event: EventMap[T]) => void, options?: OnOptions): () => void;
  on(types: '*', handler: (event: HeraldEvent) => void, options?: OnOptions): () => void;
  /** Status, location and ETA events of one delivery. @example client.on('deliveryTracking', show, { deliveryId: 'del_1' }) */
  on(kind: 'deliveryTracking', handler: (event: HeraldEvent) => void, options: TrackingOptions): () => void;
  /** Removes a handler added with `on` (same arguments). */
  off(types: EventTypeName | readonly EventTypeName[] | '*', handler: (event: never) => void): void;
  off(kind: 'deliveryTracking', handler: (event: never) => void, options: { readonly deliveryId: string }): void;
  /** A query or mutation over HTTP with a fresh token; throws `HeraldError`. */
  query<TData = Record<string, unknown>, TVariables extends Record<string, unknown> = Record<string, unknown>>(
    document: TypedDocumentLike<TData, TVariables> | string,
    variables?: TVariables,
  ): Promise<TData>;
  /**
   * Runs one of the app's own typed subscription documents on the client's connection (WebSocket or SSE), started
   * again after every reconnect (no cursor: for operations whose first result is the current state; events with
   * resume are `on`'s). Returns a function that stops it.
   * @example client.subscribe(NotificationStateChangedDocument, {}, { next: (d) => setUnread(d.notificationStateChanged.unreadCount) })
   */
  subscribe<TData = Record<string, unknown>, TVariables extends Record<string, unknown> = Record<string, unknown>>(
    document: TypedDocumentLike<TData, TVariables> | string,
    variables: TVariables | undefined,
    handlers: OperationHandlers<TData>,
  ): () => void;
  status(): HeraldClientStatus;
  /** Called on every status change (state, transport, a new cursor). Returns a function that removes it. */
  onStatus(listener: (status: HeraldClientStatus) => void): () => void;
  /** Ends every subscription and the connection. The client cannot be used after. */
  close(): void;
}
