/** Chooses the event bus from config: Redis between instances when REDIS_URL is set, else in-process. */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createLocalEventBus, type EventBus } from '../events/event-bus.js';

/** A bus the composition root owns and closes. */
export type OpenBus = EventBus & { close(): Promise<void> };

/**
 * How long start-up waits for the Redis subscription, so that an instance starting beside a reachable Redis
 * receives other instances' events from its first request on. With Redis unreachable it starts anyway (its own
 * events flow locally) and says so; the bus keeps reconnecting.
 */
export const STARTUP_SUBSCRIBE_WAIT_MS = 5_000;

export async function openEventBus(config: Config, logger: Logger): Promise<OpenBus> {
  const onHandlerError = (error: unknown) => logger.error({ err: error }, 'event handler failed');
  if (!config.redis) return { ...createLocalEventBus(onHandlerError), close: async () => {} };

  // Loaded only when used, like the MongoDB driver.
  const { createRedisEventBus } = await import('./redis-bus.js');
  const bus = createRedisEventBus({ url: config.redis.url, channel: config.redis.channel, instanceId: config.instanceId, logger, onHandlerError });
  let timer: NodeJS.Timeout | undefined;
  const subscribed = await Promise.race([
    bus.ready.then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), STARTUP_SUBSCRIBE_WAIT_MS))),
  ]);
  clearTimeout(timer);
  if (!subscribed) {
    logger.warn(
      { channel: bus.channel, instanceId: bus.instanceId, waitedMs: STARTUP_SUBSCRIBE_WAIT_MS },
      'redis event bus: not subscribed yet; starting anyway: this instance\'s events are delivered locally, other instances\' once Redis is reachable',
    );
  }
  return bus;
}
