/**
 * The presence board on Redis (src/webhooks/presence.ts): for each event with WHEN_OFFLINE candidates, every
 * instance writes one hash field, `<prefix>:presence:<eventId>` -> `<instanceId>` = the owners it delivered the
 * event to live (a JSON array, maybe empty), expiring after `ttlMs`. An enqueuer reads the hashes of the
 * events it is deciding on and the list of live instances (cluster membership, cached for `membersMs`). Redis
 * errors are logged once per window and read as "nobody reported": the safe side, where the webhook is sent.
 */
import type { Logger } from '../log.js';
import { openSideConnection } from './redis-side-connection.js';
import type { EventId } from '../events/model.js';
import type { BoardEntry, BoardView, PresenceBoard } from '../webhooks/presence.js';

export interface RedisPresenceOptions {
  readonly url: string;
  readonly instanceId: string;
  /** The other live instances' ids (cluster membership). */
  readonly members: () => Promise<readonly string[]>;
  readonly logger: Pick<Logger, 'warn'>;
  /** @default 'herald' */
  readonly prefix?: string;
  /** How long a report is kept: longer than any enqueuer can lag behind the log. @default 600000 */
  readonly ttlMs?: number;
  /** How long the membership list is reused. @default 1000 */
  readonly membersMs?: number;
}

const EMPTY: BoardView = { instances: new Set(), entries: new Map() };

export function createRedisPresenceBoard(options: RedisPresenceOptions): PresenceBoard {
  const prefix = options.prefix ?? 'herald';
  const ttlMs = options.ttlMs ?? 600_000;
  const membersMs = options.membersMs ?? 1000;
  const key = (eventId: string) => `${prefix}:presence:${eventId}`;
  const { redis, noteError } = openSideConnection(options.url, options.logger, 'webhook presence: Redis unavailable; owners live on other instances may get WHEN_OFFLINE webhooks');

  let members: { ids: ReadonlySet<string>; at: number } | undefined;
  const liveInstances = async (): Promise<ReadonlySet<string>> => {
    if (members && Date.now() - members.at < membersMs) return members.ids;
    const ids = new Set(await options.members());
    ids.delete(options.instanceId);
    members = { ids, at: Date.now() };
    return ids;
  };

  return {
    report(eventId, liveOwners) {
      redis
        .multi()
        .hset(key(eventId), options.instanceId, JSON.stringify(liveOwners))
        .pexpire(key(eventId), ttlMs)
        .exec()
        .catch(noteError);
    },
    async read(eventIds: readonly EventId[]) {
      try {
        const instances = await liveInstances();
        if (instances.size === 0) return { instances, entries: new Map() };
        const pipeline = redis.pipeline();
        for (const id of eventIds) pipeline.hgetall(key(id));
        const replies = (await pipeline.exec()) ?? [];
        const entries = new Map<EventId, BoardEntry>();
        eventIds.forEach((id, i) => {
          const [error, hash] = replies[i] ?? [];
          if (error || !hash) return;
          const reported = new Set<string>();
          const live = new Set<string>();
          for (const [instance, owners] of Object.entries(hash as Record<string, string>)) {
            reported.add(instance);
            try {
              for (const owner of JSON.parse(owners) as unknown[]) if (typeof owner === 'string') live.add(owner);
            } catch {
              // not a report of ours: the instance counts as reported, with nobody live
            }
          }
          entries.set(id, { reported, live });
        });
        return { instances, entries };
      } catch (error) {
        noteError(error);
        return EMPTY;
      }
    },
    async close() {
      redis.disconnect();
    },
  };
}
