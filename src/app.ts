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
import { statsResolvers } from './graphql/resolvers/stats.js';
import { createHttpHandler, createRequestListener } from './transport/http.js';
import { attachWebSocket } from './transport/ws.js';
import { createSseHandler } from './transport/sse.js';
import { createOperationRunner } from './transport/operation.js';
import { openStores } from './store/open-store.js';
import { createWebhooks, type Webhooks } from './webhooks/webhooks.js';
import { createWebhookResolvers } from './graphql/resolvers/webhooks.js';
import { createAnalytics, type Analytics } from './analytics/analytics-service.js';
import { createAnalyticsResolvers } from './graphql/resolvers/analytics.js';
import { useExport } from './transport/export.js';
import { createLiveGroups } from './graphql/live-groups.js';
import { createMaskError } from './graphql/errors.js';
import type { GraphQLError } from 'graphql';

export interface Herald {
  readonly hub: Hub;
  readonly store: EventStore;
  readonly server: Server;
  readonly webhooks: Webhooks;
  /** Analytics queries and `recordError` (failures for `event_errors`). */
  readonly analytics: Analytics;
  /** Starts listening; resolves with the base URL (`http://host:port`). */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, closes live connections, flushes and closes the store. */
  close(): Promise<void>;
}

export async function createHerald(config: Config, logger: Logger): Promise<Herald> {
  const { events: store, webhooks: webhookStore } = await openStores(config, logger);
  const analytics = createAnalytics({
    events: store,
    analytics: store.analytics,
    errors: store.errors,
    onRecordFailure: (error, dropped) => logger.warn({ err: error, dropped }, 'event_errors: failures not recorded'),
  });
  const bus = await openEventBus(config, logger);
  const webhooks = createWebhooks({ store: webhookStore, events: store, settings: config.webhooks, logger, retentionDays: config.retentionDays });
  const schema = buildSchema([eventResolvers, statsResolvers, createWebhookResolvers(webhooks.api), createAnalyticsResolvers(analytics)]);
  const hub = createHub({
    store,
    bus,
    validator: createPayloadValidator(schema),
    replayBatchSize: config.replayBatchSize,
    subscriptionBuffer: config.subscriptionBuffer,
    sessions: config.limits,
    onCommitted: webhooks.onCommitted,
    onRejected: (r) =>
      analytics.recordError({ kind: 'validation', source: r.source, field: r.field, message: r.message, details: r.type ? { type: r.type } : null }),
  });
  const verifier = createTokenVerifier(config.jwt);
  const maskError = createMaskError(logger);
  const groups = createLiveGroups({ maskError: (error) => maskError(error, 'Unexpected error.') as GraphQLError });
  const yoga = createHttpHandler({
    schema,
    hub,
    verifier,
    logger,
    graphiql: config.graphiql,
    publicIntrospection: config.publicIntrospection,
    limits: config.limits,
    plugins: [useExport({ store, verifier, logger })],
  });
  const runner = createOperationRunner({ yoga, groups, logger });
  const sse = createSseHandler({
    sessions: hub.connections,
    runner,
    verifier,
    maxRequestBytes: config.limits.maxRequestBytes,
    heartbeatMs: config.sseHeartbeatMs,
    heartbeatTimeoutMs: config.limits.heartbeatTimeoutMs,
  });
  const server = createServer(createRequestListener(yoga, { maxRequestBytes: config.limits.maxRequestBytes, sse }));
  const ws = attachWebSocket({
    server,
    runner,
    hub,
    verifier,
    logger,
    keepAliveMs: config.wsKeepAliveMs,
    heartbeatTimeoutMs: config.limits.heartbeatTimeoutMs,
    maxSubscriptions: config.limits.maxSubscriptionsPerConnection,
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

  let closed = false;
  return {
    hub,
    store,
    server,
    webhooks,
    analytics,
    async listen(port = config.port, host = config.host) {
      // Bus subscriptions made here run after the hub's router (presence for WHEN_OFFLINE endpoints).
      await webhooks.start({ hub, bus });
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
    async close() {
      if (closed) return;
      closed = true;
      stopRetention();
      stopAnalyticsRetention();
      await webhooks.stop();
      await ws.close();
      sse.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      hub.close();
      await bus.close();
      await webhookStore.close();
      await analytics.flushErrors();
      await store.close();
    },
  };
}
