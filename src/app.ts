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
import { createLocalEventBus } from './events/event-bus.js';
import { startRetention } from './events/retention.js';
import { createTokenVerifier } from './auth/tokens.js';
import { buildSchema } from './graphql/schema.js';
import { createPayloadValidator } from './graphql/payload-validator.js';
import { eventResolvers } from './graphql/resolvers/events.js';
import { statsResolvers } from './graphql/resolvers/stats.js';
import { createHttpHandler } from './transport/http.js';
import { attachWebSocket } from './transport/ws.js';
import { openStore } from './store/open-store.js';

export interface Herald {
  readonly hub: Hub;
  readonly store: EventStore;
  readonly server: Server;
  /** Starts listening; resolves with the base URL (`http://host:port`). */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, closes live connections, flushes and closes the store. */
  close(): Promise<void>;
}

export async function createHerald(config: Config, logger: Logger): Promise<Herald> {
  const store = await openStore(config, logger);
  const bus = createLocalEventBus((error) => logger.error({ err: error }, 'event handler failed'));
  const schema = buildSchema([eventResolvers, statsResolvers]);
  const hub = createHub({
    store,
    bus,
    validator: createPayloadValidator(schema),
    replayBatchSize: config.replayBatchSize,
    subscriptionBuffer: config.subscriptionBuffer,
  });
  const verifier = createTokenVerifier(config.jwt);
  const yoga = createHttpHandler({
    schema,
    hub,
    verifier,
    logger,
    graphiql: config.graphiql,
    publicIntrospection: config.publicIntrospection,
    sseHeartbeatMs: config.sseHeartbeatMs,
  });
  const server = createServer(yoga);
  const ws = attachWebSocket({ server, yoga, hub, verifier, logger, keepAliveMs: config.wsKeepAliveMs });
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

  let closed = false;
  return {
    hub,
    store,
    server,
    listen(port = config.port, host = config.host) {
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
      await ws.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      hub.close();
      await store.close();
    },
  };
}
