/**
 * The hub: the domain's public face, used by the GraphQL resolvers and by code embedding Herald
 * (`hub.publish(...)`). It owns the router, and wires store -> bus -> router.
 */
import { getSpec, TRACKING_TYPES, type EventTypeName } from './catalogue.js';
import type { EventFilter, EventStore } from './event-store.js';
import type { EventBus } from './event-bus.js';
import type { HeraldEvent, EventId, LogPosition, Viewer } from './model.js';
import type { PayloadValidator } from './payload-validator.js';
import { createPublisher, type PublishInput, type Publisher, type PublisherOptions } from './publish.js';
import { createRouter, type Router } from './router.js';
import { createSessionRegistry, type SessionLimits, type SessionRegistry } from '../live/session-registry.js';
import { openLiveFeed, type LiveFeed } from './stream.js';
import { createSequencer, type Sequencer } from './sequencer.js';
import { audienceOf, canSee, resolveTypes } from './visibility.js';
import { CursorError, ForbiddenError } from '../errors.js';
import { createCursorCodec, type CursorCodec } from './cursor.js';
import { DEFAULT_LIMITS, DEFAULTS } from '../config.js';

export interface HubOptions {
  readonly store: EventStore;
  readonly bus: EventBus;
  readonly validator: PayloadValidator;
  /** Events per replay read. @default REPLAY_BATCH_SIZE's (config.ts) */
  readonly replayBatchSize?: number;
  /** Live events buffered per subscription. @default SUBSCRIPTION_BUFFER's (config.ts) */
  readonly subscriptionBuffer?: number;
  /** Observers of committed events (webhook dispatcher, metrics). */
  readonly onCommitted?: (events: readonly HeraldEvent[]) => void;
  /** Observer of inputs refused by validation (recorded in `event_errors`). */
  readonly onRejected?: PublisherOptions['onRejected'];
  /** Observer of publish calls refused by `publishRate` (metrics). */
  readonly onRateLimited?: PublisherOptions['onRateLimited'];
  /** @default Date.now */
  readonly now?: () => number;
  /** Connection limits and per-session queue bounds. @default the config's defaults (DEFAULT_LIMITS) */
  readonly sessions?: SessionLimits;
  /** How long a missing log position may hold back later events (see sequencer.ts). @default 250 */
  readonly holeWaitMs?: number;
  /** A failed log read while filling a gap between events (retried). */
  readonly onSequenceError?: (error: unknown) => void;
  /**
   * With a bus between instances: how often the log's tail is read for events whose announcement was lost with
   * nothing after it (an in-flight publish when Redis dropped). @default 5000
   */
  readonly tailCheckMs?: number;
  /** Per publishing token (see PublisherOptions.rate). @default unlimited */
  readonly publishRate?: PublisherOptions['rate'];
  /** Observer of each event handed to the router, in log order (metrics: publish-to-dispatch latency). */
  readonly onDispatched?: (event: HeraldEvent) => void;
}

/** Running totals of subscriptions since start (metrics read them on scrape). */
export interface SubscriptionCounters {
  /** Subscriptions opened live (no cursor) and resumed from a cursor. */
  live: number;
  resumed: number;
  /** Resumes refused: a cursor of another log or beyond this one's head, or older than retention. */
  cursorUnknown: number;
  cursorExpired: number;
}

/** What a viewer may filter the log by; the audience restriction is added by the hub. */
export type EventQuery = Pick<EventFilter, 'userId' | 'types' | 'levels' | 'sources' | 'from' | 'to'>;

export interface Hub extends Publisher {
  readonly store: EventStore;
  readonly router: Router;
  /** Every live session of this instance (WebSocket and SSE). */
  readonly connections: SessionRegistry;
  readonly subscriptions: SubscriptionCounters;
  /** Makes and reads this log's cursors. */
  readonly cursors: CursorCodec;
  /**
   * Where a subscription resumes from a client's cursor (`argument` names where it came from in errors).
   * Undefined for no cursor (live only).
   * @throws ValidationError for a string that is no cursor; CursorError `CURSOR_UNKNOWN` for a cursor of another log
   */
  resumePoint(cursor: string | null | undefined, argument: string): LogPosition | undefined;
  /**
   * The viewer's events, live, optionally replaying the log after `afterSeq` first.
   * @throws CursorError when the log cannot resume from `afterSeq` (beyond its head, or purged by retention)
   */
  subscribe(viewer: Viewer, options: { types?: readonly EventTypeName[]; afterSeq?: LogPosition; onClose?: () => void }): Promise<LiveFeed>;
  /** One delivery's status/location/ETA events, for its customer, its partner and admins. */
  trackDelivery(viewer: Viewer, deliveryId: string, options: { afterSeq?: LogPosition; onClose?: () => void }): Promise<LiveFeed>;
  /** An event the viewer may see, or null. */
  getEvent(viewer: Viewer, id: EventId): Promise<HeraldEvent | null>;
  /** A page of the log, filtered to what the viewer may see. */
  listEvents(viewer: Viewer, query: EventQuery, page: { afterSeq?: number; limit: number; order: 'ASC' | 'DESC' }): Promise<HeraldEvent[]>;
  /**
   * Every log position up to here is final: delivered to the router, or closed as abandoned (sequencer.ts). A
   * durable consumer of the log (the webhook enqueuer) reads no further. Undefined until the log's head is known.
   */
  readonly position: LogPosition | undefined;
  /** Stops delivering to live subscribers. */
  close(): void;
}

const DELIVERY_STATUS_TYPES = TRACKING_TYPES.filter((t) => getSpec(t).domain === 'delivery');

export function createHub(options: HubOptions): Hub {
  const { store, bus } = options;
  const router = createRouter();
  const connections = createSessionRegistry(options.sessions ?? DEFAULT_LIMITS);
  const publisher = createPublisher({ store, bus, validator: options.validator, onCommitted: options.onCommitted, onRejected: options.onRejected, onRateLimited: options.onRateLimited, now: options.now, rate: options.publishRate });
  // Bus -> sequencer (log order, each once, gaps filled from the log) -> router. Until the log's head is known,
  // what the bus brings waits.
  let sequencer: Sequencer | undefined;
  const early: HeraldEvent[] = [];
  const unsubscribe = bus.subscribe((event) => (sequencer ? sequencer.push(event) : early.push(event)));
  let closed = false;
  const ready = (async (): Promise<Sequencer> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const head = await store.lastSeq();
        sequencer = createSequencer({
          store,
          start: head as LogPosition,
          deliver: options.onDispatched
            ? (event) => {
                router.dispatch(event);
                options.onDispatched!(event);
              }
            : (event) => router.dispatch(event),
          holeWaitMs: options.holeWaitMs,
          onError: options.onSequenceError,
        });
        if (closed) sequencer.close();
        for (const event of early.splice(0)) sequencer.push(event);
        return sequencer;
      } catch (error) {
        // The log is unreachable at start-up: keep trying (subscribers wait; the bus's events are kept).
        if (closed) return new Promise<Sequencer>(() => {});
        options.onSequenceError?.(error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** attempt)).unref?.());
      }
    }
  })();
  // A bus between instances says when its subscription is (re)established: what other instances published
  // meanwhile is read from the log (also on the first one: events committed before it was confirmed).
  const stopSubscribed = bus.onSubscribed?.(() => void ready.then((s) => s.catchUp()));
  const tailCheck = bus.onSubscribed ? setInterval(() => sequencer?.catchUp(), options.tailCheckMs ?? 5000) : undefined;
  tailCheck?.unref?.();
  // A replay reads the log up to where live delivery stands; the router brings what comes after.
  const until = () => sequencer!.position;
  const streamDefaults = {
    replayBatchSize: options.replayBatchSize ?? DEFAULTS.REPLAY_BATCH_SIZE,
    bufferLimit: options.subscriptionBuffer ?? DEFAULTS.SUBSCRIPTION_BUFFER,
    until,
  };

  /** A resume must not be silent when it cannot be exact: the client is told to resynchronise. */
  const subscriptions: SubscriptionCounters = { live: 0, resumed: 0, cursorUnknown: 0, cursorExpired: 0 };
  const cursors = createCursorCodec(store.epoch);

  function resumePoint(cursor: string | null | undefined, argument: string): LogPosition | undefined {
    try {
      return cursors.read(cursor, argument, 'Reload, then subscribe without a cursor');
    } catch (error) {
      if (error instanceof CursorError) subscriptions.cursorUnknown++;
      throw error;
    }
  }

  async function checkResume(afterSeq: number | undefined): Promise<void> {
    if (afterSeq === undefined) {
      subscriptions.live++;
      return;
    }
    const { oldest, head } = await store.bounds();
    if (afterSeq > head) {
      subscriptions.cursorUnknown++;
      throw new CursorError('CURSOR_UNKNOWN', `Cursor ${cursors.encode(afterSeq)} is beyond the end of this event log: it comes from another log or from before a reset. Reload, then subscribe without a cursor`);
    }
    // Events after the cursor were purged by retention when the oldest one left is further on (or none is left).
    if (afterSeq < head && (oldest === null ? true : afterSeq < oldest - 1)) {
      subscriptions.cursorExpired++;
      // `oldestCursor` resumes with everything still kept, for a client that would rather take a known gap.
      const oldestCursor = cursors.encode(oldest === null ? head : oldest - 1);
      throw new CursorError('CURSOR_EXPIRED', `Cursor ${cursors.encode(afterSeq)} is older than the event log's retention: events after it are gone. Reload, then subscribe without a cursor (or resume from oldestCursor, accepting the gap)`, { details: { oldestCursor } });
    }
    subscriptions.resumed++;
  }

  return {
    ...publisher,
    store,
    router,
    connections,
    subscriptions,
    cursors,
    resumePoint,
    get position() {
      return sequencer?.position;
    },
    async subscribe(viewer, { types: requested, afterSeq, onClose }) {
      const types = resolveTypes(viewer, requested);
      await ready;
      await checkResume(afterSeq);
      return openLiveFeed({
        ...streamDefaults,
        store,
        router,
        viewer,
        filter: { types, audience: audienceOf(viewer, types) },
        types: types ?? null,
        afterSeq,
        onClose,
      });
    },
    async trackDelivery(viewer, deliveryId, { afterSeq, onClose }) {
      if (viewer.role !== 'admin') {
        const [latest] = await store.list({ filter: { deliveryId, types: DELIVERY_STATUS_TYPES }, order: 'DESC', limit: 1 });
        // One answer for "unknown" and "not yours": the error must not tell which deliveries exist.
        if (!latest || ![latest.data['customerId'], latest.data['deliveryPartnerId']].includes(viewer.userId)) {
          throw new ForbiddenError(`You may not track delivery ${deliveryId}: only its customer, its delivery partner and admins may, once Herald has seen it`);
        }
      }
      await ready;
      await checkResume(afterSeq);
      return openLiveFeed({
        ...streamDefaults,
        store,
        router,
        viewer,
        filter: { deliveryId, types: TRACKING_TYPES },
        types: TRACKING_TYPES,
        deliveryId,
        afterSeq,
        onClose,
      });
    },
    async getEvent(viewer, id) {
      const event = await store.get(id);
      return event && canSee(viewer, event) ? event : null;
    },
    async listEvents(viewer, query, page) {
      const types = viewer.role === 'admin' ? query.types : resolveTypes(viewer, query.types);
      return store.list({
        filter: { ...query, types, audience: audienceOf(viewer, types) },
        afterSeq: page.afterSeq,
        order: page.order,
        limit: page.limit,
      });
    },
    close() {
      closed = true;
      unsubscribe();
      stopSubscribed?.();
      if (tailCheck) clearInterval(tailCheck);
      sequencer?.close();
    },
  };
}

export type { PublishInput };
