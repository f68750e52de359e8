/** Chooses the event store from config: MongoDB when MONGODB_URL is set, else embedded SQLite. */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { EventStore } from '../events/event-store.js';
import { createSqliteEventStore } from './sqlite/sqlite-event-store.js';

export async function openStore(config: Config, logger: Logger): Promise<EventStore> {
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
