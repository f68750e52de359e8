/** Chooses the event store from config: MongoDB when MONGODB_URL is set, else embedded SQLite. */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { EventStore } from '../events/event-store.js';
import type { WithAnalytics } from '../analytics/analytics-store.js';
import type { WebhookStore } from '../webhooks/webhook-store.js';
import { createSqliteEventStore } from './sqlite/sqlite-event-store.js';
import { createSqliteWebhookStoreBeside } from './sqlite/sqlite-webhook-store.js';
import { createSqliteRevocationStore } from './sqlite/sqlite-revocation-store.js';
import type { RevocationStore } from '../auth/revocations.js';
import type { ReadStateStore } from '../notifications/read-state-store.js';
import { createSqliteReadStateStore } from './sqlite/sqlite-read-state-store.js';

/** The stores of one Herald, on one database. */
export interface Stores {
  /** The event log, with its analytics counters and `event_errors` on the same database. */
  readonly events: EventStore & WithAnalytics;
  readonly webhooks: WebhookStore;
  /** Session revocations, shared by every instance on this database. */
  readonly revocations: RevocationStore;
  /** Notification read state per reader, shared by every instance on this database. */
  readonly readState: ReadStateStore;
}

/** The event store (see `openStore`) and the webhook store on the same database. */
export async function openStores(config: Config, logger: Logger): Promise<Stores> {
  const events = await openStore(config, logger);
  try {
    const db = (events as EventStore & { db?: unknown }).db;
    if (events.kind === 'mongodb') {
      const { createMongoWebhookStore } = await import('./mongo/mongo-webhook-store.js');
      const { createMongoRevocationStore } = await import('./mongo/mongo-revocation-store.js');
      const { createMongoReadStateStore } = await import('./mongo/mongo-read-state-store.js');
      const mongo = db as import('mongodb').Db;
      return {
        events,
        webhooks: await createMongoWebhookStore({ db: mongo }),
        revocations: await createMongoRevocationStore(mongo),
        readState: await createMongoReadStateStore(mongo),
      };
    }
    const sqlite = db as import('better-sqlite3').Database;
    return { events, webhooks: createSqliteWebhookStoreBeside(sqlite), revocations: createSqliteRevocationStore(sqlite), readState: createSqliteReadStateStore(sqlite) };
  } catch (error) {
    await events.close();
    throw error;
  }
}

export async function openStore(config: Config, logger: Logger): Promise<EventStore & WithAnalytics> {
  if (config.mongodbUrl) {
    const { createMongoEventStore } = await import('./mongo/mongo-event-store.js');
    const store = await createMongoEventStore({ url: config.mongodbUrl, logger });
    logger.info({ store: 'mongodb' }, 'event log on MongoDB');
    return store;
  }
  const store = createSqliteEventStore({ dataDir: config.dataDir });
  logger.info({ store: 'sqlite', dataDir: config.dataDir }, 'event log on embedded SQLite');
  return store;
}
