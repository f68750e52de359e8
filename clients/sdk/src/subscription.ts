/**
 * One thing the client asks the hub for (`events(types)` or `deliveryTracking(deliveryId)`), shared by every
 * handler registered for it. It owns the delivery guarantees: it resubscribes with the cursor of the last event
 * it handed out, drops events it has already handed out (by id, across reconnects and transport switches), and
 * passes events to handlers synchronously in arrival order, which is log order on each stream.
 */
import { EVENT_ALIAS_SEPARATOR, EVENT_BASE_SELECTION, EVENT_FRAGMENTS, EVENT_TYPES, type EventTypeName } from './generated/events.js';
import { HeraldError, fromGraphQLErrors } from './errors.js';
import type { GraphQLRequest } from './http.js';
import type { Connection, ResultLike } from './connection.js';
import type { CursorStorage } from './storage.js';

export type SubscriptionTarget =
  | { readonly kind: 'events'; readonly types: readonly EventTypeName[] | null }
  | { readonly kind: 'deliveryTracking'; readonly deliveryId: string };

/** The hub said the cursor is too old (`CURSOR_EXPIRED`) or not from this log (`CURSOR_UNKNOWN`). */
export interface GapInfo {
  readonly key: string;
  readonly code: 'CURSOR_EXPIRED' | 'CURSOR_UNKNOWN';
  /** The cursor that was refused; the subscription goes on live from now, without one. */
  readonly cursor: string;
  readonly error: HeraldError;
}

export interface SubscriptionStatus {
  readonly key: string;
  readonly target: SubscriptionTarget;
  /** Cursor of the last event handed to the handlers. */
  readonly cursor: string | null;
  /** `active` once the hub runs it; `failed` after an error that retrying would repeat (see `error`). */
  readonly state: 'pending' | 'active' | 'failed';
  readonly error: HeraldError | null;
}

export interface SubscriptionHost {
  /** Delay before retrying a failed operation, by consecutive failure count. */
  retryDelay(failures: number): number;
  schedule(callback: () => void, ms: number): () => void;
  gap(info: GapInfo): void;
  error(error: HeraldError, key: string): void;
  /** The state changed, or an event with `cursor` was handed out (for status listeners). */
  changed(cursor?: string): void;
}

type Handler = (event: Record<string, unknown>) => void;

const SEEN_CAP = 10_000;
const GAP_CODES = new Set(['CURSOR_EXPIRED', 'CURSOR_UNKNOWN']);
const RETRY_CODES = new Set(['STORE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR', 'TOO_MANY_SUBSCRIPTIONS']);

/** Every field of the given types (all types when null): only their fragments, to stay small and within MAX_ALIASES. */
const selectionOf = (types: readonly EventTypeName[] | null) => EVENT_BASE_SELECTION + (types ?? EVENT_TYPES).map((t) => EVENT_FRAGMENTS[t]).join('') + '\n';

const eventsDocument = (types: readonly EventTypeName[] | null) =>
  `subscription HeraldEvents($types: [EventType!], $after: String) {\n  events(types: $types, after: $after) {${selectionOf(types)}}\n}`;
const TRACKING_DOCUMENT = `subscription HeraldDeliveryTracking($deliveryId: ID!, $after: String) {\n  deliveryTracking(deliveryId: $deliveryId, after: $after) {${selectionOf(null)}}\n}`;

/** Renames the fields `EVENT_SELECTION` had to alias (`OrderReadyEvent__deliveryPartnerId`) back to theirs. */
function unalias(event: Record<string, unknown>): Record<string, unknown> {
  const typename = event['__typename'];
  if (typeof typename !== 'string') return event;
  const prefix = typename + EVENT_ALIAS_SEPARATOR;
  for (const key of Object.keys(event)) {
    if (!key.startsWith(prefix)) continue;
    event[key.slice(prefix.length)] = event[key];
    delete event[key];
  }
  return event;
}

/** One key per distinct request: handlers of the same types (in any order) share a subscription. */
export function subscriptionKey(target: SubscriptionTarget): string {
  if (target.kind === 'deliveryTracking') return `deliveryTracking:${target.deliveryId}`;
  return target.types ? `events:${[...new Set(target.types)].sort().join(',')}` : 'events:*';
}

export class LiveSubscription {
  readonly key: string;
  readonly handlers = new Set<Handler>();
  #cursor: string | undefined;
  #state: SubscriptionStatus['state'] = 'pending';
  #error: HeraldError | null = null;
  readonly #seen = new Set<string>();
  #stop: (() => void) | undefined;
  #cancelRetry: (() => void) | undefined;
  #failures = 0;
  #on: Connection | undefined;
  /** The current run of the operation: callbacks of an earlier run (its trailing `complete`) are ignored. */
  #run: object | undefined;
  #restoring: Promise<void> | undefined;
  #restored = false;

  constructor(
    readonly target: SubscriptionTarget,
    private readonly host: SubscriptionHost,
    private readonly storage: CursorStorage | undefined,
    after: string | undefined,
  ) {
    this.key = subscriptionKey(target);
    this.#cursor = after;
  }

  /** Reads the stored cursor once (when no explicit `after` was given); the subscription runs only after it. */
  restore(): Promise<void> {
    this.#restoring ??= (async () => {
      if (this.#cursor === undefined && this.storage) {
        const stored = await this.storage.get(this.key);
        if (stored && this.#cursor === undefined) this.#cursor = stored;
      }
      this.#restored = true;
    })();
    return this.#restoring;
  }

  /** Whether `restore()` has finished (a subscription must not start live before it knows its stored cursor). */
  get restored(): boolean {
    return this.#restored;
  }

  get cursor(): string | undefined {
    return this.#cursor;
  }

  /** The connection it runs on, if any. */
  get connection(): Connection | undefined {
    return this.#on;
  }

  status(): SubscriptionStatus {
    return { key: this.key, target: this.target, cursor: this.#cursor ?? null, state: this.#state, error: this.#error };
  }

  request(): GraphQLRequest {
    const after = this.#cursor ?? null;
    return this.target.kind === 'events'
      ? { query: eventsDocument(this.target.types), variables: { types: this.target.types, after }, operationName: 'HeraldEvents' }
      : { query: TRACKING_DOCUMENT, variables: { deliveryId: this.target.deliveryId, after }, operationName: 'HeraldDeliveryTracking' };
  }

  /** Runs on `connection` from the current cursor (stops a run on another connection only when told to). */
  attach(connection: Connection): void {
    if (this.#state === 'failed') return;
    this.#cancelRetry?.();
    this.#cancelRetry = undefined;
    this.#stop?.();
    this.#on = connection;
    if (this.#state !== 'active') {
      this.#state = 'active';
      this.host.changed();
    }
    const run = {};
    this.#run = run;
    this.#stop = connection.subscribe(this.request(), {
      next: (result) => {
        if (this.#run === run) this.#receive(connection, result);
      },
      error: (error) => {
        if (this.#run === run) this.#failed(connection, error);
      },
      complete: () => {
        // A live subscription does not complete by itself: run it again.
        if (this.#run === run) this.#retryLater(connection);
      },
    });
  }

  /** Forgets the connection (it closed, or the client switched transport). */
  detach(): void {
    this.#cancelRetry?.();
    this.#cancelRetry = undefined;
    this.#stop?.();
    this.#stop = undefined;
    this.#on = undefined;
    this.#run = undefined;
    if (this.#state === 'active') {
      this.#state = 'pending';
      this.host.changed();
    }
  }

  #receive(connection: Connection, result: ResultLike): void {
    if (this.#on !== connection) return;
    const field = this.target.kind === 'events' ? 'events' : 'deliveryTracking';
    const raw = result.data?.[field] as Record<string, unknown> | null | undefined;
    if (!raw) {
      if (result.errors?.length) this.#failed(connection, fromGraphQLErrors(result.errors));
      return;
    }
    const event = unalias(raw);
    this.#failures = 0;
    this.#error = null;
    const id = typeof event['id'] === 'string' ? event['id'] : undefined;
    if (id !== undefined) {
      if (this.#seen.has(id)) return;
      this.#seen.add(id);
      if (this.#seen.size > SEEN_CAP) this.#seen.delete(this.#seen.values().next().value as string);
    }
    const cursor = typeof event['cursor'] === 'string' ? event['cursor'] : undefined;
    if (cursor !== undefined) {
      this.#cursor = cursor;
      this.storage?.set(this.key, cursor);
    }
    for (const handler of [...this.handlers]) {
      try {
        handler(event);
      } catch (error) {
        this.host.error(new HeraldError('HANDLER_ERROR', `A handler of ${this.key} threw: ${(error as Error)?.message ?? String(error)}`, { cause: error }), this.key);
      }
    }
    this.host.changed(cursor);
  }

  #failed(connection: Connection, error: HeraldError): void {
    if (this.#on !== connection) return;
    this.#stop = undefined;
    this.#run = undefined;
    if (GAP_CODES.has(error.code) && this.#cursor !== undefined) {
      const cursor = this.#cursor;
      this.#cursor = undefined;
      this.storage?.set(this.key, '');
      this.host.gap({ key: this.key, code: error.code as GapInfo['code'], cursor, error });
      this.attach(connection);
      return;
    }
    if (RETRY_CODES.has(error.code)) {
      this.#error = error;
      this.#retryLater(connection);
      this.host.changed();
      return;
    }
    this.#state = 'failed';
    this.#error = error;
    this.host.error(error, this.key);
    this.host.changed();
  }

  #retryLater(connection: Connection): void {
    this.#stop = undefined;
    this.#run = undefined;
    this.#cancelRetry?.();
    this.#cancelRetry = this.host.schedule(() => {
      this.#cancelRetry = undefined;
      if (this.#on === connection && connection.isReady) this.attach(connection);
    }, this.host.retryDelay(this.#failures++));
  }
}
