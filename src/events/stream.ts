/**
 * A subscription's event stream: replay from the log after a cursor, then live, with none missed
 * and none twice. The live feed is attached first and buffered while the log is read; buffered
 * events already covered by the replay (not after the subscriber's `LogPosition`) are skipped.
 *
 * Two ways to consume it: pull (an AsyncIterator, one promise per event: for generic GraphQL
 * execution) or push (`attach`: a synchronous call per event, for the live transports, whose
 * sessions render and queue frames themselves). A feed is used in one way only.
 */
import type { EventTypeName } from './catalogue.js';
import type { EventFilter, EventStore } from './event-store.js';
import { isAfter, LOG_START, positionOf, type HeraldEvent, type LogPosition, type Viewer } from './model.js';
import type { LiveSubscriber, Router } from './router.js';
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
  /** Replay what was logged after this position; live only when undefined. */
  readonly afterSeq?: LogPosition;
  /**
   * Where live delivery stands (the sequencer's position): read when the feed joins the router, a replay reads
   * the log up to it and the router brings everything after it. Unbounded when not given.
   */
  readonly until?: () => LogPosition;
  /** Events per replay read (REPLAY_BATCH_SIZE; its default is in config.ts). */
  readonly replayBatchSize: number;
  /** Events buffered before the subscription is ended as too slow (SUBSCRIPTION_BUFFER; default in config.ts). */
  readonly bufferLimit: number;
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
  return new Feed(options);
}

/**
 * The feed is its own router subscriber, and its methods live on the prototype: a live subscription costs
 * one object and what it holds, no closures. What only the replay needs is let go once it is done.
 */
class Feed implements LiveFeed, LiveSubscriber {
  readonly viewer: Viewer;
  readonly types: ReadonlySet<EventTypeName> | null;
  readonly deliveryId: string | undefined;
  /** Where this subscriber has read up to: the last event delivered, or the cursor it resumed from. */
  position: LogPosition;
  sink: FeedSink | undefined;
  /** Live events that arrived before a sink, or during the replay. */
  buffer: HeraldEvent[] | undefined = [];
  stopped = false;
  failure: unknown;
  pulled: PushIterator<HeraldEvent> | undefined;
  /** Needed until the replay is done (or the feed stops). */
  options: StreamOptions | undefined;
  /** The last position the replay reads (live delivery stood there when the feed joined the router). */
  replayUntil: LogPosition | undefined;
  readonly router: Router;

  constructor(options: StreamOptions) {
    this.viewer = options.viewer;
    this.types = typeSet(options.types);
    this.deliveryId = options.deliveryId;
    this.position = options.afterSeq ?? LOG_START;
    this.router = options.router;
    this.options = options;
    options.router.add(this);
    this.replayUntil = options.afterSeq === undefined ? undefined : options.until?.();
  }

  /** The router's call, per matching live event. */
  push(event: HeraldEvent): void {
    const buffer = this.buffer;
    if (buffer) {
      // A buffer exists only while the options are kept (before a sink, during the replay).
      const limit = this.options!.bufferLimit;
      if (buffer.length >= limit) return this.fail(new SlowConsumerError(limit));
      buffer.push(event);
      return;
    }
    if (!isAfter(event, this.position) || this.stopped) return;
    this.position = positionOf(event);
    this.sink!.deliver(event);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.buffer = undefined;
    this.router.remove(this);
    const onClose = this.options?.onClose;
    this.options = undefined;
    onClose?.();
  }

  fail(error: unknown): void {
    if (this.stopped) return;
    const target = this.sink;
    this.stop();
    if (target) target.fail(error);
    else this.failure = error;
  }

  async start(target: FeedSink): Promise<void> {
    this.sink = target;
    if (this.failure !== undefined) return target.fail(this.failure);
    if (this.stopped) return;
    const options = this.options!;
    try {
      if (options.afterSeq !== undefined) {
        const batch = options.replayBatchSize;
        for (;;) {
          const page = await options.store.list({ filter: options.filter, afterSeq: this.position, untilSeq: this.replayUntil, order: 'ASC', limit: batch });
          if (this.stopped) return;
          for (const event of page) {
            this.position = positionOf(event);
            target.deliver(event);
          }
          if (page.length < batch) break;
          await target.ready();
          if (this.stopped) return;
        }
      }
      const caught = this.buffer ?? [];
      this.buffer = undefined;
      // The replay is done: keep only what live delivery needs (an onClose stays for stop()).
      if (!options.onClose) this.options = undefined;
      for (const event of caught) {
        if (!isAfter(event, this.position)) continue;
        this.position = positionOf(event);
        target.deliver(event);
      }
    } catch (error) {
      this.fail(error);
    }
  }

  attach(target: FeedSink): void {
    if (this.sink || this.pulled) throw new Error('LiveFeed: already in use');
    void this.start(target);
  }

  /** Pull mode: a push iterator fed by the sink; its bound closes a consumer that falls too far behind. */
  next(): Promise<IteratorResult<HeraldEvent>> {
    if (this.sink && !this.pulled) throw new Error('LiveFeed: already attached in push mode');
    if (!this.pulled) {
      const limit = this.options?.bufferLimit ?? 1; // no options: stopped, nothing more comes
      const queue = createPushIterator<HeraldEvent>({ limit, onOverflow: () => (this.stop(), new SlowConsumerError(limit)), onReturn: () => this.stop() });
      this.pulled = queue;
      void this.start({ deliver: (event) => queue.push(event), ready: () => queue.drained(), fail: (error) => queue.end(error) });
    }
    return this.pulled.next();
  }

  async return(): Promise<IteratorResult<HeraldEvent>> {
    this.stop();
    await this.pulled?.return!();
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<HeraldEvent>> {
    this.stop();
    await this.pulled?.return!();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
