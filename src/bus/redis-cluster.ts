/**
 * Cluster membership on Redis: each instance writes its connection snapshot every `reportMs` under
 * `<prefix>:instance:<id>` with an expiry of `ttlMs`, and reads the others' with SCAN + MGET. A killed instance
 * drops out when its key expires; one shutting down removes it. Redis errors make the view this instance alone
 * (logged once per window), never a failed `connectionStats`.
 */
import type { Logger } from '../log.js';
import { openSideConnection } from './redis-side-connection.js';
import type { ClusterDirectory, InstanceConnections } from '../live/cluster.js';
import type { ConnectionSnapshot, SessionRegistry } from '../live/session-registry.js';

export interface RedisClusterOptions {
  readonly url: string;
  readonly instanceId: string;
  readonly sessions: Pick<SessionRegistry, 'snapshot'>;
  readonly logger: Logger;
  /** @default 'herald' */
  readonly prefix?: string;
  /** How often this instance reports. @default 2000 */
  readonly reportMs?: number;
  /** How long a report stays: an instance silent this long is gone. @default 6000 */
  readonly ttlMs?: number;
}

interface Report {
  readonly instanceId: string;
  readonly snapshot: ConnectionSnapshot;
  readonly seenAt: number;
}

export function createRedisCluster(options: RedisClusterOptions): ClusterDirectory {
  const prefix = options.prefix ?? 'herald';
  const reportMs = options.reportMs ?? 2000;
  const ttlMs = options.ttlMs ?? 6000;
  const key = `${prefix}:instance:${options.instanceId}`;
  const { redis, noteError } = openSideConnection(options.url, options.logger, 'cluster membership: Redis unavailable; connectionStats shows this instance only');

  const self = (): InstanceConnections => ({ instanceId: options.instanceId, self: true, snapshot: options.sessions.snapshot(), seenAt: Date.now() });
  const report = () => {
    let current: InstanceConnections;
    try {
      current = self();
    } catch {
      return; // the registry is not there yet (start-up): the next tick reports
    }
    const { instanceId, snapshot, seenAt } = current;
    redis.set(key, JSON.stringify({ instanceId, snapshot, seenAt } satisfies Report), 'PX', ttlMs).catch(noteError);
  };
  setImmediate(report);
  const timer = setInterval(report, reportMs);
  timer.unref();

  async function others(): Promise<InstanceConnections[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:instance:*`, 'COUNT', 100);
      cursor = next;
      keys.push(...batch.filter((k) => k !== key));
    } while (cursor !== '0' && keys.length < 10_000);
    if (keys.length === 0) return [];
    const values = await redis.mget(...keys);
    const out: InstanceConnections[] = [];
    for (const value of values) {
      if (!value) continue; // expired between SCAN and MGET
      try {
        const r = JSON.parse(value) as Report;
        out.push({ instanceId: r.instanceId, self: false, snapshot: r.snapshot, seenAt: r.seenAt });
      } catch {
        // a foreign or broken value under our prefix: not an instance
      }
    }
    return out.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  }

  return {
    async instances() {
      try {
        return [self(), ...(await others())];
      } catch (error) {
        noteError(error);
        return [self()];
      }
    },
    async close() {
      clearInterval(timer);
      await redis.del(key).catch(() => {});
      redis.disconnect();
    },
  };
}
