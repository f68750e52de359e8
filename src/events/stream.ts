/**
 * A subscription's event stream: replay from the log after a cursor, then live, with none missed
 * and none twice. The live feed is attached first and buffered while the log is read; buffered
 * events already covered by the replay (seq <= last replayed) are skipped.
 *
 * Two ways to consume it: pull (an AsyncIterator, one promise per event: for generic GraphQL
 * execution) or push (`attach`: a synchronous call per event, for the live transports, whose
 * sessions render and queue frames themselves). A feed is used in one way only.
 */
import type { EventTypeName } from './catalogue.js';
import type { EventFilter, EventStore } from './event-store.js';
import type { HeraldEvent, Viewer } from './model.js';
import type { Router } from './router.js';
import { createPushIterator, type PushIterator } from './push-iterator.js';
import { AppError } from '../errors.js';

export interface StreamOptions {
  readonly store: EventStore;
  readonly router: Router;
  readonly viewer: Viewer;
  /** Store filter for the replay; must select exactly what the live subscriber receives. */
  readonly filter: EventFilter;
  /** Live-feed restriction (null = all the viewer may receive). */
  readonly types: readonly EventTypeName[] | null;
  /** Tracking subscription for one (already authorized) delivery. */
  readonly deliveryId?: string;
  /** Replay what was logged after this seq; live only when undefined. */
  readonly afterSeq?: number;
  /** @default 500 */
  readonly replayBatchSize?: number;
  /** Events buffered before the subscription is ended as too slow. @default 10000 */
  readonly bufferLimit?: number;
  /** Called once when the stream ends for any reason. */
  readonly onClose?: () => void;
}

export class SlowConsumerError extends AppError {
  constructor(limit: number) {
    super('CONFLICT', 409, `Subscription fell more than ${limit} events behind and was closed; resubscribe with your last cursor to resume`);
  }
}

/** One Set per list of types (the catalogue's lists are shared by every subscriber of a role). */
const typeSets = new WeakMap<readonly EventTypeName[], ReadonlySet<EventTypeName>>();
function typeSet(types: readonly EventTypeName[] | null): ReadonlySet<EventTypeName> | null {
  if (!types) return null;
  let set = typeSets.get(types);
  if (!set) typeSets.set(types, (set = new Set(types)));
  return set;
}

/** Where a feed delivers. */
export interface FeedSink {
  /** Each event in log order, replay first, then live; none twice, none skipped. Synchronous. */
  deliver(event: HeraldEvent): void;
  /** Resolves when the sink can take the next replay page (its queue has drained). */
  ready(): Promise<void>;
  /** The feed cannot go on (store failure during replay, too many events buffered before attaching). */
  fail(error: unknown): void;
}

export interface LiveFeed extends AsyncIterableIterator<HeraldEvent> {
  /** Push mode: delivers to `sink` (replay first when resuming). Use instead of `next()`, at most once. */
  attach(sink: FeedSink): void;
}

/**
 * Opens a feed: it listens on the router at once (events published from now on are kept until a sink
 * takes them), and delivers through `attach` (push) or through `next()` (pull, over a bounded queue).
 */
export function openLiveFeed(options: StreamOptions): LiveFeed {
  const { store, router, filter, afterSeq } = options;
  const batch = options.replayBatchSize ?? 500;
  const limit = options.bufferLimit ?? 10_000;
  let lastSeq = afterSeq ?? -1;
  let sink: FeedSink | undefined;
  /** Live events that arrived before a sink, or during the replay. */
  let buffer: HeraldEvent[] | undefined = [];
  let stopped = false;
  let pulled: PushIterator<HeraldEvent> | undefined;

  const stopRouting = router.add({
    viewer: options.viewer,
    types: typeSet(options.types),
    deliveryId: options.deliveryId,
    push(event) {
      if (buffer) {
        if (buffer.length >= limit) return fail(new SlowConsumerError(limit));
        buffer.push(event);
        return;
      }
      if (event.seq <= lastSeq) return;
      lastSeq = event.seq;
      sink!.deliver(event);
    },
  });

  const stop = () => {
    if (stopped) return;
    stopped = true;
    buffer = undefined;
    stopRouting();
    options.onClose?.();
  };
  const fail = (error: unknown) => {
    if (stopped) return;
    const target = sink;
    stop();
    if (target) target.fail(error);
    else failure = error;
  };
  let failure: unknown;

  async function start(target: FeedSink) {
    sink = target;
    if (failure !== undefined) return target.fail(failure);
    try {
      if (afterSeq !== undefined) {
        for (;;) {
          const page = await store.list({ filter, afterSeq: lastSeq, order: 'ASC', limit: batch });
          if (stopped) return;
          for (const event of page) {
            lastSeq = event.seq;
            target.deliver(event);
          }
          if (page.length < batch) break;
          await target.ready();
          if (stopped) return;
        }
      }
      const caught = buffer ?? [];
      buffer = undefined;
      for (const event of caught) {
        if (event.seq <= lastSeq) continue;
        lastSeq = event.seq;
        target.deliver(event);
      }
    } catch (error) {
      fail(error);
    }
  }

  /** Pull mode: a push iterator fed by the sink; its bound closes a consumer that falls too far behind. */
  function pull(): PushIterator<HeraldEvent> {
    const queue = createPushIterator<HeraldEvent>({ limit, onOverflow: () => (stop(), new SlowConsumerError(limit)), onReturn: stop });
    void start({ deliver: (event) => queue.push(event), ready: () => queue.drained(), fail: (error) => queue.end(error) });
    return queue;
  }

  const feed: LiveFeed = {
    next() {
      if (sink && !pulled) throw new Error('LiveFeed: already attached in push mode');
      pulled ??= pull();
      return pulled.next();
    },
    async return() {
      stop();
      await pulled?.return!();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      stop();
      await pulled?.return!();
      throw error;
    },
    attach(target) {
      if (sink || pulled) throw new Error('LiveFeed: already in use');
      void start(target);
    },
    [Symbol.asyncIterator]: () => feed,
  };
  return feed;
}
