/**
 * Prometheus metrics (prom-client) at `/metrics`. The domain keeps plain running totals (the session registry's
 * `counters`, the hub's `subscriptions`) and calls observers (`onCommitted`, `onDispatched`); this module reads
 * and records them, so nothing below the transports imports a metrics library. Node's own metrics (event-loop lag,
 * heap, GC) come from prom-client's defaults.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Hub } from '../events/hub.js';
import type { EventStore } from '../events/event-store.js';
import type { HeraldEvent } from '../events/model.js';
import type { DocumentLimitName } from '../graphql/limits.js';
import type { EndpointStates, HealthTransition } from '../webhooks/health.js';
import { writeError } from '../transport/error-response.js';

export interface MetricsOptions {
  /** Bearer token `/metrics` requires; unset: open, except in production, where `/metrics` is then off. */
  readonly token?: string;
  /** NODE_ENV=production. */
  readonly production: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  /** Reads the hub's live state and totals on every scrape. */
  observeHub(hub: Pick<Hub, 'connections' | 'router' | 'subscriptions'>): void;
  /** Hub observer: events committed by this instance. */
  published(events: readonly HeraldEvent[]): void;
  /** Hub observer: an event handed to the router (publish-to-dispatch latency). */
  dispatched(event: HeraldEvent): void;
  /** Webhook observer: one finished delivery attempt. */
  webhookAttempt(outcome: 'succeeded' | 'retrying' | 'failed'): void;
  /** The store, with each operation's latency recorded. */
  timeStore<T extends EventStore>(store: T): T;
  /** Reads the webhook endpoints' health on every scrape. */
  observeWebhooks(webhooks: { endpointStates(): EndpointStates }): void;
  /** Webhook observer: an endpoint's health changed. */
  webhookHealthChanged(to: HealthTransition): void;
  /** Document-limit observer: an operation refused by `limit` (src/graphql/limits.ts), or a publish by its rate. */
  requestRefused(limit: DocumentLimitName | 'publishRate'): void;
  /** Answers `GET /metrics`. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

const TIMED: ReadonlySet<string> = new Set(['append', 'get', 'list', 'countSince', 'lastSeq', 'bounds', 'abandon', 'purgeBefore']);

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'herald_' });
  let hub: Pick<Hub, 'connections' | 'router' | 'subscriptions'> | undefined;

  /** A counter whose value is a running total kept elsewhere, read at scrape time. */
  const totals = <L extends string>(name: string, help: string, labelNames: readonly L[], read: (set: (labels: Record<L, string>, value: number) => void) => void) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        read((labels, value) => {
          if (value > 0) this.inc(labels as never, value);
        });
      },
    });

  new Gauge({
    name: 'herald_sessions',
    help: 'Live sessions (WebSocket and SSE connections) by transport',
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { transport, count } of hub?.connections.snapshot().byTransport ?? []) this.set({ transport }, count);
    },
  });
  new Gauge({
    name: 'herald_sessions_by_role',
    help: 'Live sessions by the viewer role',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { role, count } of hub?.connections.snapshot().byRole ?? []) this.set({ role }, count);
    },
  });
  new Gauge({
    name: 'herald_live_subscriptions',
    help: 'Live subscriptions routed on this instance',
    registers: [registry],
    collect() {
      this.set(hub?.router.size ?? 0);
    },
  });
  totals('herald_sessions_opened_total', 'Sessions opened', [], (set) => set({}, hub?.connections.counters.opened ?? 0));
  totals('herald_session_closes_total', 'Sessions closed, by close code (1006 peer gone, 1012 restart, 4030 too slow, 4401 expired or revoked, 4031 closed by an admin)', ['code'], (set) => {
    for (const [code, n] of hub?.connections.counters.closedByCode ?? []) set({ code: String(code) }, n);
  });
  totals('herald_connections_refused_total', 'Connections and subscribes refused by a limit (MAX_CONNECTIONS: instance, MAX_CONNECTIONS_PER_USER: user, CONNECTION_RATE_PER_IP: connection_rate, SUBSCRIBE_RATE_PER_CONNECTION: subscribe_rate)', ['limit'], (set) => {
    set({ limit: 'instance' }, hub?.connections.counters.refused.instance ?? 0);
    set({ limit: 'user' }, hub?.connections.counters.refused.user ?? 0);
    set({ limit: 'connection_rate' }, hub?.connections.counters.refused.connectionRate ?? 0);
    set({ limit: 'subscribe_rate' }, hub?.connections.counters.refused.subscribeRate ?? 0);
  });
  totals('herald_frames_sent_total', 'Frames handed to session writers (events, acks, errors)', [], (set) => set({}, hub?.connections.counters.framesSent ?? 0));
  totals('herald_subscriptions_total', 'Subscriptions started, by outcome (live, resumed from a cursor, refused cursor)', ['outcome'], (set) => {
    const s = hub?.subscriptions;
    if (!s) return;
    set({ outcome: 'live' }, s.live);
    set({ outcome: 'resumed' }, s.resumed);
    set({ outcome: 'cursor_unknown' }, s.cursorUnknown);
    set({ outcome: 'cursor_expired' }, s.cursorExpired);
  });

  const published = new Counter({ name: 'herald_events_published_total', help: 'Events committed by this instance, by type and source', labelNames: ['type', 'source'], registers: [registry] });
  const latency = new Histogram({
    name: 'herald_publish_to_dispatch_seconds',
    help: 'From publish (event timestamp) to the router handing the event to its subscribers',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const attempts = new Counter({ name: 'herald_webhook_attempts_total', help: 'Webhook delivery attempts, by outcome (succeeded, retrying, failed for good)', labelNames: ['outcome'], registers: [registry] });
  const storeLatency = new Histogram({
    name: 'herald_store_operation_seconds',
    help: 'Event log operations, by store and operation',
    labelNames: ['store', 'operation', 'outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });

  // --- Webhook endpoint health and document-limit refusals (kept apart from the connection limits above) ---
  let webhooks: { endpointStates(): EndpointStates } | undefined;
  new Gauge({
    name: 'herald_webhook_endpoints',
    help: 'Webhook endpoints by health: state healthy or failing (enabled), or disabled with reason gone (410), failing (for WEBHOOK_DISABLE_AFTER) or manual. The same on every instance sharing a store',
    labelNames: ['state', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      const states = webhooks?.endpointStates();
      if (!states) return;
      this.set({ state: 'healthy', reason: '' }, states.healthy);
      this.set({ state: 'failing', reason: '' }, states.failing);
      for (const [reason, count] of Object.entries(states.disabled)) this.set({ state: 'disabled', reason: reason.toLowerCase() }, count);
    },
  });
  const healthChanges = new Counter({
    name: 'herald_webhook_endpoint_health_changes_total',
    help: 'Webhook endpoint health changes made by this instance: failing (first failure), recovered (a success after failures), disabled_gone, disabled_failing',
    labelNames: ['to'],
    registers: [registry],
  });
  const requestsRefused = new Counter({
    name: 'herald_requests_refused_total',
    help: 'GraphQL operations (HTTP, WebSocket, SSE) refused by a document limit (maxDocumentBytes, maxTokens, maxDepth, maxAliases, maxDirectives, maxCost), and publish calls refused by their rate (publishRate)',
    labelNames: ['limit'],
    registers: [registry],
  });
  // --- end of webhook health and document-limit refusals ---

  const unauthorized = (res: ServerResponse, status: 401 | 404, message: string) =>
    writeError(res, { status, code: status === 401 ? 'UNAUTHENTICATED' : 'NOT_FOUND', message });
  const tokenMatches = (header: string | undefined) => {
    if (!options.token || !header?.startsWith('Bearer ')) return false;
    const given = Buffer.from(header.slice(7));
    const expected = Buffer.from(options.token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  return {
    registry,
    observeHub(target) {
      hub = target;
    },
    published(events) {
      for (const event of events) published.inc({ type: event.type, source: event.source });
    },
    webhookAttempt(outcome) {
      attempts.inc({ outcome });
    },
    observeWebhooks(target) {
      webhooks = target;
    },
    webhookHealthChanged(to) {
      healthChanges.inc({ to });
    },
    requestRefused(limit) {
      requestsRefused.inc({ limit });
    },
    dispatched(event) {
      latency.observe(Math.max(0, Date.now() - event.timestamp) / 1000);
    },
    timeStore(store) {
      const kind = store.kind;
      // One wrapper per operation, made on first use (the publish path reads `append` on every call).
      const wrappers = new Map<string, (...args: unknown[]) => Promise<unknown>>();
      return new Proxy(store, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (typeof property !== 'string' || !TIMED.has(property) || typeof value !== 'function') return value;
          let wrapped = wrappers.get(property);
          if (!wrapped) {
            wrapped = async (...args: unknown[]) => {
              const end = storeLatency.startTimer({ store: kind, operation: property });
              try {
                const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
                end({ outcome: 'ok' });
                return result;
              } catch (error) {
                end({ outcome: 'error' });
                throw error;
              }
            };
            wrappers.set(property, wrapped);
          }
          return wrapped;
        },
      });
    },
    async serve(req, res) {
      if (!options.token && options.production) return unauthorized(res, 404, 'Metrics are off in production until METRICS_TOKEN is set');
      if (options.token && !tokenMatches(req.headers.authorization)) return unauthorized(res, 401, 'Send "Authorization: Bearer <METRICS_TOKEN>"');
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
      res.end(body);
    },
  };
}
