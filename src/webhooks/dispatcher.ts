/**
 * Drains the outbox: claims due deliveries with leases, sends them through two levels of p-queue — one queue
 * per endpoint (`endpointConcurrency`) inside one global queue (`concurrency`) — and records each attempt.
 * It claims only what both queues can start at once, so a slow or dead endpoint holds at most its own few
 * slots (and its leases) and never delays the others; its backlog waits in the store, not in memory.
 *
 * Leases last longer than a request can (60 s vs 15 s): a crashed worker's deliveries are claimed again once
 * they lapse, so none is lost and a duplicate needs a crash mid-request (receivers dedupe on `webhook-id`).
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import type { EventStore } from '../events/event-store.js';
import type { EventId, HeraldEvent } from '../events/model.js';
import { createBatcher } from './batcher.js';
import type { EndpointDirectory } from './directory.js';
import type { EndpointHealth } from './health.js';
import { activeSecrets, type EndpointId, type WebhookDelivery } from './model.js';
import { decideOutcome } from './outcome.js';
import { eventPayload } from './payload.js';
import { createCursorCodec } from '../events/cursor.js';
import type { WebhookSender } from './sender.js';
import { buildWebhookHeaders } from './signing.js';
import type { AttemptRecord, WebhookStore } from './webhook-store.js';

/** How an attempt ended: delivered, failed with a retry scheduled, or failed for good. */
export type AttemptOutcome = 'succeeded' | 'retrying' | 'failed';

export interface DispatcherOptions {
  readonly store: WebhookStore;
  readonly events: Pick<EventStore, 'get' | 'epoch'>;
  readonly directory: EndpointDirectory;
  readonly sender: WebhookSender;
  readonly health: EndpointHealth;
  /** Retry delays in ms (`WEBHOOK_RETRY_SCHEDULE`). */
  readonly schedule: readonly number[];
  /** @default 3_600_000 */
  readonly retryAfterCapMs?: number;
  /** Requests in flight over all endpoints. @default 50 */
  readonly concurrency?: number;
  /** Requests in flight per endpoint. @default 5 */
  readonly endpointConcurrency?: number;
  /** How long a claim owns a delivery; must exceed the request timeout. @default 60000 */
  readonly leaseMs?: number;
  /** Interval of the full scan for due deliveries (retries, other instances' work). @default 1000 */
  readonly pollMs?: number;
  /** Recently published events kept to avoid a store read per delivery. @default 20000 */
  readonly eventCacheSize?: number;
  readonly onError?: (error: unknown) => void;
  /** Observer of every finished attempt (metrics): delivered, to be retried, or given up. */
  readonly onAttempt?: (outcome: AttemptOutcome) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface Dispatcher {
  start(): void;
  /** Looks for due deliveries of these endpoints now (new deliveries, freed capacity). */
  wake(endpointIds: Iterable<EndpointId>): void;
  /** Keeps events about to be delivered, so sending them needs no store read. */
  remember(events: readonly HeraldEvent[]): void;
  /**
   * Stops claiming, lets in-flight requests finish for up to `graceMs`, then aborts the rest and gives their
   * deliveries back (no attempt is recorded for them).
   */
  stop(graceMs?: number): Promise<void>;
  /** Deliveries claimed and not yet finished. */
  readonly inFlight: number;
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, events, directory, sender, health } = options;
  const cursors = createCursorCodec(events.epoch);
  const concurrency = options.concurrency ?? 50;
  const endpointConcurrency = options.endpointConcurrency ?? 5;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 1_000;
  const cacheSize = options.eventCacheSize ?? 20_000;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});

  const global = new PQueue({ concurrency });
  const queues = new Map<EndpointId, PQueue>();
  const cache = new Map<EventId, HeraldEvent>();
  const retryTimers = new Map<EndpointId, { at: number; timer: NodeJS.Timeout }>();
  const abort = new AbortController();
  // Every request in flight listens to this one signal (up to `concurrency` of them).
  setMaxListeners(0, abort.signal);
  const recorder = createBatcher<AttemptRecord>((records) => store.complete(records));
  let inFlight = 0;
  let stopped = true;
  let poll: NodeJS.Timeout | undefined;

  // Endpoints to look at next, in order; those left over for lack of global capacity stay in front.
  let hot: EndpointId[] = [];
  const hotSet = new Set<EndpointId>();
  let scanRequested = false;
  let running: Promise<void> | undefined;

  const queueFor = (id: EndpointId) => {
    let queue = queues.get(id);
    if (!queue) {
      queue = new PQueue({ concurrency: endpointConcurrency });
      queues.set(id, queue);
    }
    return queue;
  };
  const busy = (queue: PQueue) => queue.size + queue.pending;

  const wakeAt = (id: EndpointId, at: number) => {
    const delay = at - now();
    if (delay <= 0) return wake([id]);
    if (delay > pollMs) return; // the periodic scan finds it
    const existing = retryTimers.get(id);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      retryTimers.delete(id);
      wake([id]);
    }, delay);
    timer.unref();
    retryTimers.set(id, { at, timer });
  };

  const deliver = async (delivery: WebhookDelivery) => {
    const leaseId = delivery.leaseId as string;
    const endpoint = directory.get(delivery.endpointId);
    if (stopped || !endpoint?.enabled) {
      await store.release([delivery.id], leaseId);
      return;
    }
    const event = cache.get(delivery.eventId) ?? (await events.get(delivery.eventId));
    if (!event) {
      const at = now();
      const error = 'the event is no longer in the log (retention)';
      await recorder.push({
        deliveryId: delivery.id,
        endpointId: endpoint.id,
        leaseId,
        update: { status: 'failed', attempts: delivery.attempts, scheduleStep: delivery.scheduleStep, nextAttemptAt: at, lastError: error, updatedAt: at },
        attempt: { deliveryId: delivery.id, n: delivery.attempts + 1, at, httpStatus: null, latencyMs: 0, errorKind: null, error, responseBody: null },
      });
      return;
    }
    const body = eventPayload(event, cursors.encode(event.seq));
    const sentAt = now();
    const headers = buildWebhookHeaders({ msgId: event.id, timestamp: Math.floor(sentAt / 1000), body, secrets: activeSecrets(endpoint, sentAt) });
    const result = await sender.send({ url: endpoint.url, headers: { ...headers }, body, signal: abort.signal });
    if (result.aborted) {
      await store.release([delivery.id], leaseId);
      return;
    }
    const at = now();
    const outcome = decideOutcome(delivery, result, at, { schedule: options.schedule, retryAfterCapMs: options.retryAfterCapMs });
    await recorder.push({ deliveryId: delivery.id, endpointId: endpoint.id, leaseId, update: outcome.update, attempt: outcome.attempt });
    health.observe(endpoint.id, outcome.endpoint, at);
    options.onAttempt?.(outcome.update.status === 'succeeded' ? 'succeeded' : outcome.update.status === 'pending' ? 'retrying' : 'failed');
    if (outcome.update.status === 'pending') wakeAt(endpoint.id, outcome.update.nextAttemptAt);
  };

  const dispatch = (queue: PQueue, delivery: WebhookDelivery) => {
    inFlight++;
    queue
      .add(() => global.add(() => deliver(delivery)))
      .catch((error: unknown) => {
        onError(error);
        // Leave it leased: it is claimed again when the lease lapses.
      })
      .finally(() => {
        inFlight--;
        wake([delivery.endpointId]);
      });
  };

  /** Claims for these endpoints, in order; @returns the ones left for lack of global capacity. */
  const claimFor = async (ids: readonly EndpointId[]): Promise<EndpointId[]> => {
    for (let i = 0; i < ids.length; i++) {
      if (stopped) return [];
      const globalFree = concurrency - busy(global);
      if (globalFree <= 0) return ids.slice(i);
      const id = ids[i]!;
      const endpoint = directory.get(id);
      if (!endpoint?.enabled) continue;
      const queue = queueFor(id);
      const free = Math.min(endpointConcurrency - busy(queue), globalFree);
      if (free <= 0) continue;
      const at = now();
      const claimed = await store.claim(id, at, at + leaseMs, randomUUID(), free);
      for (const delivery of claimed) dispatch(queue, delivery);
      if (claimed.length === 0 && busy(queue) === 0) queues.delete(id);
    }
    return [];
  };

  const run = async () => {
    try {
      while (!stopped && (scanRequested || hot.length)) {
        let ids = hot;
        hot = [];
        hotSet.clear();
        if (scanRequested) {
          scanRequested = false;
          const due = await store.dueEndpoints(now(), 1_000);
          ids = [...new Set([...ids, ...due])];
        }
        const left = await claimFor(ids);
        if (left.length) {
          // Retried when capacity frees up (each finished delivery wakes the dispatcher).
          const later = hot;
          hot = [...left, ...later.filter((id) => !left.includes(id))];
          hotSet.clear();
          for (const id of hot) hotSet.add(id);
          break;
        }
      }
    } catch (error) {
      onError(error);
    } finally {
      running = undefined;
    }
  };

  const schedule = () => {
    if (running || stopped) return;
    running = new Promise<void>((resolve) => setImmediate(resolve)).then(run);
  };

  function wake(ids: Iterable<EndpointId>) {
    for (const id of ids) {
      if (!hotSet.has(id)) {
        hotSet.add(id);
        hot.push(id);
      }
    }
    schedule();
  }

  return {
    get inFlight() {
      return inFlight;
    },
    start() {
      stopped = false;
      poll = setInterval(() => {
        scanRequested = true;
        schedule();
      }, pollMs);
      poll.unref();
      scanRequested = true;
      schedule();
    },
    wake,
    remember(list) {
      for (const event of list) {
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as EventId);
        cache.set(event.id, event);
      }
    },
    async stop(graceMs = 5_000) {
      if (stopped && !running && inFlight === 0) return;
      stopped = true;
      if (poll) clearInterval(poll);
      for (const { timer } of retryTimers.values()) clearTimeout(timer);
      retryTimers.clear();
      await running;
      let timer: NodeJS.Timeout | undefined;
      const idle = async () => {
        while (inFlight > 0) await Promise.race([global.onIdle(), new Promise((r) => setTimeout(r, 20))]);
      };
      await Promise.race([idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      abort.abort();
      await idle();
      await recorder.drain();
      await health.settled();
    },
  };
}
