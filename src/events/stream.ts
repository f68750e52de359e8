/**
 * A subscription's event stream: replay from the log after a cursor, then live, with none missed
 * and none twice. The live feed is attached first and buffered while the log is read; buffered
 * events already covered by the replay (seq <= last replayed) are skipped.
 */
import type { EventTypeName } from './catalogue.js';
import type { EventFilter, EventStore } from './event-store.js';
import type { HeraldEvent, Viewer } from './model.js';
import type { Router } from './router.js';
import { createPushIterator } from './push-iterator.js';
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

export function openEventStream(options: StreamOptions): AsyncIterableIterator<HeraldEvent> {
  const { store, router, viewer, filter, afterSeq } = options;
  const batch = options.replayBatchSize ?? 500;
  const limit = options.bufferLimit ?? 10_000;

  let stopLive = () => {};
  const live = createPushIterator<HeraldEvent>({
    limit,
    onOverflow: () => new SlowConsumerError(limit),
    onReturn: () => stopLive(),
  });
  stopLive = router.add({
    viewer,
    types: options.types ? new Set(options.types) : null,
    deliveryId: options.deliveryId,
    push: (event) => live.push(event),
  });

  let lastSeq = afterSeq ?? -1;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    stopLive();
    options.onClose?.();
  };

  async function* run(): AsyncGenerator<HeraldEvent> {
    try {
      if (afterSeq !== undefined) {
        for (;;) {
          const page = await store.list({ filter, afterSeq: lastSeq, order: 'ASC', limit: batch });
          for (const event of page) {
            lastSeq = event.seq;
            yield event;
          }
          if (page.length < batch) break;
        }
      }
      for await (const event of live) {
        if (event.seq <= lastSeq) continue;
        lastSeq = event.seq;
        yield event;
      }
    } finally {
      close();
    }
  }

  // An async generator cannot be returned while it awaits the live feed, so ending the live
  // iterator first is what lets an idle subscription be torn down at once.
  const gen = run();
  const stream: AsyncIterableIterator<HeraldEvent> = {
    next: () => gen.next(),
    async return(value?: unknown) {
      close();
      await live.return!();
      return gen.return(value as undefined);
    },
    async throw(error?: unknown) {
      close();
      await live.return!();
      return gen.throw(error);
    },
    [Symbol.asyncIterator]: () => stream,
  };
  return stream;
}
