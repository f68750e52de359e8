/**
 * Webhooks, assembled: endpoint directory, API, enqueuer (log -> outbox), dispatcher (outbox -> HTTP),
 * endpoint health and presence recording. The API works from creation (it needs no hub); delivery starts with
 * `start`, once the hub exists, and `stop` drains it before the stores close.
 */
import type { EventBus } from '../events/event-bus.js';
import type { EventStore } from '../events/event-store.js';
import type { Hub } from '../events/hub.js';
import type { HeraldEvent } from '../events/model.js';
import type { Logger } from '../log.js';
import { createEndpointDirectory } from './directory.js';
import { createDispatcher, type AttemptOutcome } from './dispatcher.js';
import { createWebhookApi, type WebhookApi } from './api.js';
import { createEnqueuer } from './enqueuer.js';
import { createEndpointHealth, type EndpointStates, type HealthTransition } from './health.js';
import { createPresenceLog, recordPresence, type PresenceBoard } from './presence.js';
import { createHttpSender, type WebhookSender } from './sender.js';
import type { LookupFn } from './ssrf-guard.js';
import type { WebhookEndpoint } from './model.js';
import type { WebhookStore } from './webhook-store.js';

/** The settings of `Config.webhooks` (see src/config.ts for defaults). */
export interface WebhookSettings {
  /** Delays in ms before each attempt; entry 0 is the first attempt's. */
  readonly retrySchedule: readonly number[];
  readonly allowHttp: boolean;
  readonly allowPrivateNetworks: boolean;
  readonly concurrency: number;
  readonly endpointConcurrency: number;
  readonly disableAfterMs: number;
  readonly retryAfterCapMs: number;
}

export interface WebhooksOptions {
  readonly store: WebhookStore;
  readonly events: EventStore;
  readonly settings: WebhookSettings;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Finished deliveries older than this are purged (hourly): the event log's retention (EVENT_LOG_RETENTION_DAYS). */
  readonly retentionDays: number;
  /** @default an HTTP sender with the settings' URL policy */
  readonly sender?: WebhookSender;
  /** @default the system resolver */
  readonly lookup?: LookupFn;
  /** Observer of every finished delivery attempt (metrics). */
  readonly onAttempt?: (outcome: AttemptOutcome) => void;
  /** Observer of every change of an endpoint's health (metrics). */
  readonly onHealthTransition?: (to: HealthTransition) => void;
  /** With other instances: presence shared with them, so WHEN_OFFLINE is cluster-wide (see presence.ts). */
  readonly board?: PresenceBoard;
}

export interface Webhooks {
  readonly api: WebhookApi;
  /** For the hub's `onCommitted`: schedules an enqueuer pass right away. */
  onCommitted(events: readonly HeraldEvent[]): void;
  /** Starts delivering. Call once the hub exists and before serving requests. */
  start(deps: { readonly hub: Pick<Hub, 'publish' | 'router' | 'position'>; readonly bus: EventBus }): Promise<void>;
  /** Stops claiming and waits up to `graceMs` for requests in flight. @default 5000 */
  stop(graceMs?: number): Promise<void>;
  /** Endpoints by health, now (metrics). */
  endpointStates(): EndpointStates;
}

/** The source of events Herald publishes about webhooks. */
export const WEBHOOKS_SOURCE = 'herald-webhooks';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function createWebhooks(options: WebhooksOptions): Webhooks {
  const { store, events, settings, logger } = options;
  const policy = { allowHttp: settings.allowHttp, allowPrivateNetworks: settings.allowPrivateNetworks };
  const sender = options.sender ?? createHttpSender({ policy, lookup: options.lookup });
  const directory = createEndpointDirectory(store);
  const presence = createPresenceLog();
  const firstDelayMs = settings.retrySchedule[0] ?? 0;
  const logError = (what: string) => (error: unknown) => logger.error({ err: error }, what);
  let publish: Pick<Hub, 'publish'>['publish'] | undefined;
  let positionOf: (() => number | undefined) | undefined;

  const health = createEndpointHealth({
    store,
    directory,
    disableAfterMs: settings.disableAfterMs,
    onError: logError('webhook endpoint health update failed'),
    onTransition: options.onHealthTransition,
    async onDisabled(endpoint: WebhookEndpoint) {
      const origin = URL.canParse(endpoint.url) ? new URL(endpoint.url).origin : 'invalid URL';
      logger.warn({ endpointId: endpoint.id, ownerId: endpoint.ownerId, origin, reason: endpoint.disabledReason }, 'webhook endpoint disabled');
      await publish?.({
        type: 'webhook_endpoint_disabled',
        userId: endpoint.ownerId,
        source: WEBHOOKS_SOURCE,
        data: {
          endpointId: endpoint.id,
          url: endpoint.url,
          reason: endpoint.disabledReason,
          failingSince: iso(endpoint.failingSince),
          disabledAt: iso(endpoint.disabledAt ?? Date.now()),
        },
      });
    },
  });

  const dispatcher = createDispatcher({
    store,
    events,
    directory,
    sender,
    health,
    schedule: settings.retrySchedule,
    retryAfterCapMs: settings.retryAfterCapMs,
    concurrency: settings.concurrency,
    endpointConcurrency: settings.endpointConcurrency,
    onError: logError('webhook dispatch failed'),
    onAttempt: options.onAttempt,
  });

  const enqueuer = createEnqueuer({
    events,
    store,
    directory,
    presence,
    board: options.board,
    firstDelayMs,
    // The log is read up to the hub's delivered position only (docs/cursors.md); before start, nothing is read.
    until: () => positionOf?.(),
    onEnqueued(endpointIds, list) {
      dispatcher.remember(list);
      dispatcher.wake(endpointIds);
    },
    onError: logError('webhook enqueue pass failed'),
  });

  const api = createWebhookApi({
    store,
    events,
    directory,
    sender,
    policy,
    lookup: options.lookup,
    firstDelayMs,
    onQueued: (ids) => dispatcher.wake(ids),
  });

  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: (() => void) | undefined;
  let started = false;

  return {
    api,
    endpointStates: () => health.states(),
    onCommitted: () => enqueuer.trigger(),
    async start({ hub, bus }) {
      if (started) return;
      started = true;
      publish = (input, by) => hub.publish(input, by);
      positionOf = () => hub.position;
      if (settings.allowHttp || settings.allowPrivateNetworks) {
        logger.warn(
          { allowHttp: settings.allowHttp, allowPrivateNetworks: settings.allowPrivateNetworks },
          'webhook URL checks relaxed (WEBHOOK_ALLOW_HTTP / WEBHOOK_ALLOW_PRIVATE_NETWORKS): for development and tests only',
        );
      }
      const released = await store.releaseStaleLeases();
      if (released) logger.info({ released }, 'released webhook deliveries leased by a previous process');
      await directory.reload();
      unsubscribe = recordPresence({ bus, router: hub.router, directory, presence, board: options.board });
      await enqueuer.start();
      dispatcher.start();
      if (store.kind !== 'sqlite') {
        // Other instances may change endpoints; this one hears of it within 5 s.
        timers.push(setInterval(() => void directory.reload().catch(logError('webhook endpoint reload failed')), 5_000));
      }
      const retentionMs = options.retentionDays * 86_400_000;
      timers.push(setInterval(() => void store.purgeBefore(Date.now() - retentionMs).catch(logError('webhook delivery purge failed')), 3_600_000));
      for (const timer of timers) timer.unref();
    },
    async stop(graceMs = 5_000) {
      for (const timer of timers) clearInterval(timer);
      unsubscribe?.();
      await enqueuer.stop();
      await dispatcher.stop(graceMs);
      sender.close();
    },
  };
}
