/**
 * Fills the outbox: a durable consumer of the event log. It keeps its own cursor in the webhook store, reads
 * the events after it in seq order, inserts one delivery per (matching endpoint, event) — idempotently — and
 * only then advances the cursor. A crash between an event's commit and its deliveries' insert therefore loses
 * nothing: the next pass (after each commit, every `pollMs`, and at start-up) reads the event again.
 * No transaction spans the two stores, so this works on FerretDB as well.
 */
import type { EventStore } from '../events/event-store.js';
import type { HeraldEvent } from '../events/model.js';
import type { EndpointDirectory } from './directory.js';
import type { BoardView, PresenceBoard, PresenceLog } from './presence.js';
import { newDelivery, type EndpointId, type WebhookDelivery } from './model.js';
import type { WebhookStore } from './webhook-store.js';

export interface EnqueuerOptions {
  readonly events: Pick<EventStore, 'list' | 'lastSeq'>;
  readonly store: Pick<WebhookStore, 'readCursor' | 'enqueue'>;
  readonly directory: EndpointDirectory;
  readonly presence: PresenceLog;
  /** Delay before a delivery's first attempt (the retry schedule's first entry). @default 0 */
  readonly firstDelayMs?: number;
  /** Events read per store round trip. @default 500 */
  readonly batchSize?: number;
  /** Safety-net pass interval (commits also trigger passes). @default 1000 */
  readonly pollMs?: number;
  /**
   * How long a fresh event that matches a `WHEN_OFFLINE` endpoint may wait for its presence to be recorded
   * (the pass can read an event before its publisher has announced it on the bus). @default 1000
   */
  readonly presenceGraceMs?: number;
  /** With other instances: their presence reports (an owner live on any instance gets no WHEN_OFFLINE webhook). */
  readonly board?: PresenceBoard;
  /**
   * How long an event may wait for every other live instance to report its presence before the owners it has no
   * report for count as offline (the webhook is sent: at worst a duplicate of a live delivery). @default 3000
   */
  readonly clusterGraceMs?: number;
  /**
   * The log position up to which no event can still commit (the hub's delivered position, see docs/cursors.md):
   * a pass reads no further, so with several writers an event committed late at a lower position is never
   * skipped by the cursor. Nothing is read while it is undefined. Unbounded when the option is not given.
   */
  readonly until?: () => number | undefined;
  /** Called with the endpoints that received new deliveries, and the events they are for. */
  readonly onEnqueued?: (endpointIds: ReadonlySet<EndpointId>, events: readonly HeraldEvent[]) => void;
  readonly onError?: (error: unknown) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface Enqueuer {
  /** Reads the cursor (starting at the end of the log on first run) and runs a first pass. */
  start(): Promise<void>;
  /** Schedules a pass soon; passes never overlap. */
  trigger(): void;
  /** Stops polling and waits for the running pass. */
  stop(): Promise<void>;
}

export function createEnqueuer(options: EnqueuerOptions): Enqueuer {
  const { events, store, directory, presence } = options;
  const batchSize = options.batchSize ?? 500;
  const pollMs = options.pollMs ?? 1_000;
  const graceMs = options.presenceGraceMs ?? 1_000;
  const clusterGraceMs = options.clusterGraceMs ?? 3_000;
  const { board } = options;
  const firstDelayMs = options.firstDelayMs ?? 0;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});

  let cursor = 0;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  let poll: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;

  /** Events of `batch` whose WHEN_OFFLINE owners are not all live here: what the board is asked about. */
  const undecided = (batch: readonly HeraldEvent[]) =>
    batch.filter((event) => directory.candidates(event).some((e) => e.mode === 'WHEN_OFFLINE' && presence.wasLive(event.id, e.ownerId) !== true)).map((e) => e.id);

  /** Deliveries for one event, or undefined to wait for its presence (here, or on the other instances). */
  const deliveriesFor = (event: HeraldEvent, at: number, view: BoardView | undefined): WebhookDelivery[] | undefined => {
    const out: WebhookDelivery[] = [];
    for (const endpoint of directory.candidates(event)) {
      if (endpoint.mode === 'WHEN_OFFLINE') {
        const live = presence.wasLive(event.id, endpoint.ownerId);
        if (live === undefined && !presence.seen(event.id) && at - event.timestamp < graceMs) return undefined;
        if (live === true) continue;
        if (view) {
          const entry = view.entries.get(event.id);
          if (entry?.live.has(endpoint.ownerId)) continue;
          const missing = [...view.instances].some((id) => !entry?.reported.has(id));
          if (missing && at - event.timestamp < clusterGraceMs) return undefined;
        }
      }
      out.push(newDelivery(endpoint, event, at, firstDelayMs));
    }
    return out;
  };

  /** One batch; @returns whether there may be more to read now. */
  const step = async (): Promise<boolean> => {
    const until = options.until ? options.until() : Infinity;
    if (until === undefined || until <= cursor) return false;
    const batch = await events.list({ filter: {}, afterSeq: cursor, untilSeq: Number.isFinite(until) ? until : undefined, order: 'ASC', limit: batchSize });
    if (batch.length === 0) return false;
    const asked = board && directory.hasWhenOffline() ? undecided(batch) : [];
    const view = asked.length ? await board!.read(asked) : undefined;
    const at = now();
    const deliveries: WebhookDelivery[] = [];
    const used: HeraldEvent[] = [];
    let upto = cursor;
    let waiting = false;
    for (const event of batch) {
      const found = deliveriesFor(event, at, view);
      if (found === undefined) {
        waiting = true;
        break;
      }
      if (found.length) used.push(event);
      deliveries.push(...found);
      upto = event.seq;
    }
    if (upto !== cursor) {
      await store.enqueue(deliveries, upto);
      for (const event of batch) {
        if (event.seq > upto) break;
        presence.forget(event.id);
      }
      cursor = upto;
      if (deliveries.length) options.onEnqueued?.(new Set(deliveries.map((d) => d.endpointId)), used);
    }
    if (waiting) {
      if (!graceTimer && !stopped) {
        graceTimer = setTimeout(() => {
          graceTimer = undefined;
          trigger();
        }, Math.min(graceMs, clusterGraceMs, 100));
      }
      return false;
    }
    return batch.length === batchSize;
  };

  const pass = async () => {
    let more = false;
    try {
      // Bounded, then re-scheduled through setImmediate: a large backlog yields to the event loop.
      for (let i = 0; i < 10 && !stopped; i++) {
        more = await step();
        if (!more) break;
      }
    } catch (error) {
      more = false;
      onError(error);
    }
    running = undefined;
    if (more || again) {
      again = false;
      trigger();
    }
  };

  const trigger = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = new Promise<void>((resolve) => setImmediate(resolve)).then(pass);
  };

  return {
    async start() {
      const stored = await store.readCursor();
      if (stored === null) {
        // First run: events already in the log predate every endpoint.
        cursor = await events.lastSeq();
        await store.enqueue([], cursor);
      } else {
        cursor = stored;
      }
      stopped = false;
      poll = setInterval(trigger, pollMs);
      poll.unref();
      trigger();
      await running;
    },
    trigger,
    async stop() {
      stopped = true;
      if (poll) clearInterval(poll);
      if (graceTimer) clearTimeout(graceTimer);
      graceTimer = undefined;
      await running;
    },
  };
}
