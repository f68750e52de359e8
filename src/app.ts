/**
 * Composition: config -> store -> domain -> GraphQL -> transports. Used by main.ts and by tests,
 * which start the real server on a free port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { EventStore } from './events/event-store.js';
import { createHub, type Hub } from './events/hub.js';
import { openEventBus } from './bus/open-bus.js';
import { startRetention } from './events/retention.js';
import { createTokenVerifier } from './auth/tokens.js';
import { buildSchema } from './graphql/schema.js';
import { createPayloadValidator } from './graphql/payload-validator.js';
import { eventResolvers } from './graphql/resolvers/events.js';
import { createStatsResolvers } from './graphql/resolvers/stats.js';
import { createRevocations } from './auth/revocations.js';
import { createMetrics } from './metrics/metrics.js';
import { createLocalCluster } from './live/cluster.js';
import { CloseCode } from 'graphql-ws';
import { HeraldCloseCode } from '../clients/protocol/index.js';
import { createHttpHandler, createRequestListener } from './transport/http.js';
import { attachWebSocket } from './transport/ws.js';
import { createSseHandler } from './transport/sse.js';
import { createOperationRunner } from './transport/operation.js';
import { createClientAddress } from './transport/client-address.js';
import { openStores } from './store/open-store.js';
import { createWebhooks, type Webhooks } from './webhooks/webhooks.js';
import { createWebhookResolvers } from './graphql/resolvers/webhooks.js';
import { createAnalytics, type Analytics } from './analytics/analytics-service.js';
import { createAnalyticsResolvers } from './graphql/resolvers/analytics.js';
import { useExport } from './transport/export.js';
import { createLiveGroups } from './graphql/live-groups.js';
import { createMaskError } from './graphql/errors.js';
import { createNotifications, SHARED_STORE_POLL_MS, type Notifications } from './notifications/notifications.js';
import type { NotificationEvents } from './notifications/model.js';
import { createNotificationResolvers } from './graphql/resolvers/notifications.js';
import type { GraphQLError } from 'graphql';

export interface Herald {
  readonly hub: Hub;
  readonly store: EventStore;
  readonly server: Server;
  readonly webhooks: Webhooks;
  /** Analytics queries and `recordError` (failures for `event_errors`). */
  readonly analytics: Analytics;
  /** Notification read state per reader. */
  readonly notifications: Notifications;
  /** Starts listening; resolves with the base URL (`http://host:port`). */
  listen(port?: number, host?: string): Promise<string>;
  /**
   * Graceful shutdown: /ready turns 503, no new connections, live clients told to reconnect elsewhere (WebSocket
   * 1012, SSE final `event: error` with a `retry:` hint), in-flight requests finish and webhook attempts finish or
   * are released, within `timeoutMs` (SHUTDOWN_TIMEOUT_MS); then batched writes are flushed and stores closed.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /** True once shutdown began (readiness). */
  readonly draining: boolean;
}

export async function createHerald(config: Config, logger: Logger): Promise<Herald> {
  const metrics = createMetrics({ token: config.metricsToken, production: config.env === 'production' });
  const stores = await openStores(config, logger);
  const store = metrics.timeStore(stores.events);
  const { webhooks: webhookStore, revocations: revocationStore, readState: readStateStore } = stores;
  const analytics = createAnalytics({
    events: store,
    analytics: store.analytics,
    errors: store.errors,
    onRecordFailure: (error, dropped) => logger.warn({ err: error, dropped }, 'event_errors: failures not recorded'),
  });
  const bus = await openEventBus(config, logger);
  // Revocations end live sessions through the hub (made below): only after start-up, so `hub` is set by then.
  const revocations = createRevocations({
    store: revocationStore,
    maxTokenAgeMs: config.jwt.maxAgeMs,
    closeSessions: ({ userId, revokedAt }) =>
      hub.connections.closeUser(userId, CloseCode.Unauthorized, 'Unauthorized: sessions revoked', (session) => (session.viewer.issuedAt ?? 0) <= revokedAt),
    onError: (error) => logger.warn({ err: error }, 'revocations could not be read; retrying'),
  });
  // The cluster's instances for connectionStats: on Redis with the bus, else this one alone (reads the hub below lazily).
  const sessionsView = { snapshot: () => hub.connections.snapshot() };
  const cluster = config.redis
    ? (await import('./bus/redis-cluster.js')).createRedisCluster({ url: config.redis.url, instanceId: config.instanceId, sessions: sessionsView, logger })
    : createLocalCluster(config.instanceId, sessionsView);
  // WHEN_OFFLINE presence shared between instances: an owner live on any of them gets no webhook.
  const board = config.redis
    ? (await import('./bus/redis-presence.js')).createRedisPresenceBoard({
        url: config.redis.url,
        instanceId: config.instanceId,
        members: async () => (await cluster.instances()).map((i) => i.instanceId),
        logger,
      })
    : undefined;
  const webhooks = createWebhooks({ store: webhookStore, events: store, settings: config.webhooks, logger, retentionDays: config.retentionDays, onAttempt: metrics.webhookAttempt, onHealthTransition: metrics.webhookHealthChanged, board });
  metrics.observeWebhooks(webhooks);
  // Notifications are made of the hub's events; the hub is made below (it needs the schema), so it is read lazily.
  const hubEvents: NotificationEvents = {
    getEvent: (viewer, id) => hub.getEvent(viewer, id),
    listEvents: (viewer, query, page) => hub.listEvents(viewer, query, page),
    get position() {
      return hub.position;
    },
  };
  const notifications = createNotifications({
    store: readStateStore,
    events: hubEvents,
    maxIds: config.notificationsMaxIds,
    retentionDays: config.retentionDays,
    pollMs: store.kind === 'mongodb' ? SHARED_STORE_POLL_MS : 0,
    onError: (error) => logger.warn({ err: error }, 'notification read state could not be read; the next change retries'),
  });
  const schema = buildSchema([
    eventResolvers,
    createStatsResolvers({ revocations, cluster }),
    createWebhookResolvers(webhooks.api),
    createAnalyticsResolvers(analytics),
    createNotificationResolvers(notifications),
  ]);
  const hub = createHub({
    store,
    bus,
    validator: createPayloadValidator(schema),
    replayBatchSize: config.replayBatchSize,
    subscriptionBuffer: config.subscriptionBuffer,
    sessions: config.limits,
    publishRate: config.publishRate,
    onSequenceError: (error) => logger.warn({ err: error }, 'event log unreachable while ordering live events; retrying'),
    onCommitted: (events) => {
      webhooks.onCommitted(events);
      metrics.published(events);
    },
    onDispatched: metrics.dispatched,
    onRateLimited: () => metrics.requestRefused('publishRate'),
    onRejected: (r) =>
      analytics.recordError({ kind: 'validation', source: r.source, field: r.field, message: r.message, details: r.type ? { type: r.type } : null }),
  });
  let closed = false;
  metrics.observeHub(hub);
  const verifier = createTokenVerifier(config.jwt, { isRevoked: revocations.isRevoked });
  const maskError = createMaskError(logger);
  const groups = createLiveGroups({ maskError: (error) => maskError(error, 'Unexpected error.') as GraphQLError });
  const yoga = createHttpHandler({
    schema,
    hub,
    verifier,
    logger,
    graphiql: config.graphiql,
    publicIntrospection: config.publicIntrospection,
    limits: { ...config.limits, onRefused: metrics.requestRefused },
    isDraining: () => closed,
    plugins: [useExport({ store, verifier, logger })],
  });
  const runner = createOperationRunner({ yoga, groups, logger });
  const clientAddress = createClientAddress(config.trustedProxies);
  const sse = createSseHandler({
    sessions: hub.connections,
    runner,
    verifier,
    logger,
    clientAddress,
    cursors: hub.cursors,
    maxRequestBytes: config.limits.maxRequestBytes,
    heartbeatMs: config.sseHeartbeatMs,
    heartbeatTimeoutMs: config.limits.heartbeatTimeoutMs,
  });
  const server = createServer(createRequestListener(yoga, { maxRequestBytes: config.limits.maxRequestBytes, logger, sse, metrics }));
  const ws = attachWebSocket({
    server,
    runner,
    hub,
    verifier,
    logger,
    clientAddress,
    keepAliveMs: config.wsKeepAliveMs,
    heartbeatTimeoutMs: config.limits.heartbeatTimeoutMs,
    maxSubscriptions: config.limits.maxSubscriptionsPerConnection,
    maxPayloadBytes: config.limits.maxRequestBytes,
    connectionInitWaitTimeoutMs: config.limits.connectionInitTimeoutMs,
  });
  const retention = (await store.ensureRetention?.(config.retentionDays))?.mode ?? 'purge';
  logger.info({ retentionDays: config.retentionDays, mode: retention }, 'event log retention');
  const stopRetention =
    retention === 'purge'
      ? startRetention({
          store,
          days: config.retentionDays,
          onPurged: (count) => logger.info({ count, retentionDays: config.retentionDays }, 'purged expired events'),
          onError: (error) => logger.error({ err: error }, 'retention purge failed'),
        })
      : () => {};
  // Errors and minute buckets follow the log's retention whatever the mode (TTL covers event_logs only).
  const stopAnalyticsRetention = startRetention({
    store: analytics,
    days: config.retentionDays,
    onError: (error) => logger.error({ err: error }, 'analytics retention purge failed'),
  });
  const stopReadStateRetention = startRetention({
    store: readStateStore,
    days: config.retentionDays,
    onError: (error) => logger.error({ err: error }, 'notification marks retention purge failed'),
  });

  return {
    hub,
    store,
    server,
    webhooks,
    analytics,
    notifications,
    async listen(port = config.port, host = config.host) {
      // Bus subscriptions made here run after the hub's router (presence for WHEN_OFFLINE endpoints).
      await webhooks.start({ hub, bus });
      await revocations.start();
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve(`http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${address.port}`);
        });
      });
    },
    get draining() {
      return closed;
    },
    async close({ timeoutMs = config.shutdownTimeoutMs } = {}) {
      if (closed) return;
      closed = true;
      const deadline = Date.now() + timeoutMs;
      const left = () => Math.max(0, deadline - Date.now());
      stopRetention();
      stopAnalyticsRetention();
      stopReadStateRetention();
      revocations.stop();
      // No new connections; requests in flight (publishes) go on.
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Live clients reconnect (to another instance) and resume from their cursor: nothing is lost.
      hub.connections.closeAll(HeraldCloseCode.ServiceRestart, 'Service restart: reconnect and resume from your last cursor');
      await ws.close();
      sse.close();
      notifications.stop();
      server.closeIdleConnections();
      const webhooksStopped = webhooks.stop(left());
      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, left()).unref())]);
      server.closeAllConnections();
      await stopped;
      await webhooksStopped;
      hub.close();
      await bus.close();
      await cluster.close();
      await board?.close();
      await webhookStore.close();
      await analytics.flushErrors();
      await store.close();
    },
  };
}
