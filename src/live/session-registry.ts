/**
 * Every open session of this instance, indexed by user and by role, with the connection limits.
 * "Close every session of user X" is one call; `connectionStats` is a snapshot of it.
 */
import type { Role } from '../events/catalogue.js';
import { ConnectionLimitError, RateLimitError } from '../errors.js';
import { createRateLimiter } from '../events/rate-limiter.js';
import { Session, type SessionOptions, type SessionTransport, type TransportKind } from './session.js';

/** The registry's limits; config.ts holds each default, next to its environment variable (named here). */
export interface SessionLimits {
  /** Sessions this instance accepts (MAX_CONNECTIONS). */
  readonly maxConnections: number;
  /** Sessions one user may hold on this instance (MAX_CONNECTIONS_PER_USER). */
  readonly maxConnectionsPerUser: number;
  /** SESSION_QUEUE_MAX_BYTES */
  readonly queueMaxBytes: number;
  /** SESSION_QUEUE_MAX_MESSAGES */
  readonly queueMaxMessages: number;
  /** New connections per client address (CONNECTION_RATE_PER_IP, 0 = off; CONNECTION_BURST_PER_IP). */
  readonly connectionRate: { readonly perSecond: number; readonly burst: number };
  /** `subscribe` messages per session (SUBSCRIBE_RATE_PER_CONNECTION, 0 = off; SUBSCRIBE_BURST_PER_CONNECTION). */
  readonly subscribeRate: { readonly perSecond: number; readonly burst: number };
}

export interface ConnectionSnapshot {
  readonly total: number;
  readonly byTransport: ReadonlyArray<{ transport: TransportKind; count: number }>;
  readonly byRole: ReadonlyArray<{ role: Role; count: number }>;
  readonly distinctUsers: number;
}

/** Running totals since start (metrics read them on scrape). */
export interface SessionCounters {
  opened: number;
  /** Closes by close code (1006: the peer went away; 4030: too slow; 4401: token expired or revoked; …). */
  readonly closedByCode: Map<number, number>;
  /**
   * Refusals by limit: opens refused by `MAX_CONNECTIONS` (instance) or `MAX_CONNECTIONS_PER_USER` (user), connection
   * attempts over `CONNECTION_RATE_PER_IP` (connectionRate), `subscribe` messages over `SUBSCRIBE_RATE_PER_CONNECTION`
   * (subscribeRate).
   */
  readonly refused: { instance: number; user: number; connectionRate: number; subscribeRate: number };
  /** Frames handed to session writers. */
  framesSent: number;
}

export interface SessionRegistry {
  /**
   * Counts one connection attempt of a client address (client-address.ts) before anything else is done for it.
   * @throws RateLimitError (429, with when to retry) over CONNECTION_RATE_PER_IP
   */
  admit(clientAddress: string): void;
  /**
   * Opens a session for a verified viewer.
   * @throws ConnectionLimitError (503 instance full, 429 this user has too many) — nothing is opened
   */
  open(viewer: SessionOptions['viewer'], transport: SessionTransport, codes: SessionOptions['codes']): Session;
  /** Closes every session of one user (revocation), or those `which` selects; returns how many. */
  closeUser(userId: string, code: number, reason: string, which?: (session: Session) => boolean): number;
  /** Closes every session (shutdown). */
  closeAll(code: number, reason: string): void;
  sessionsOf(userId: string): readonly Session[];
  readonly size: number;
  snapshot(): ConnectionSnapshot;
  readonly counters: SessionCounters;
}

/** How often the registry closes sessions whose token expired. */
const EXPIRY_SWEEP_MS = 500;

type Bucket = Session | Session[];
const list = (bucket: Bucket | undefined): Session[] => (bucket === undefined ? [] : Array.isArray(bucket) ? [...bucket] : [bucket]);
const count = (bucket: Bucket | undefined): number => (bucket === undefined ? 0 : Array.isArray(bucket) ? bucket.length : 1);

export function createSessionRegistry(limits: SessionLimits): SessionRegistry {
  // A user's sessions: the session itself, or an array once there are several (most users hold one).
  const byUser = new Map<string, Bucket>();
  const byRole = new Map<Role, Set<Session>>();
  const byTransport = new Map<TransportKind, number>();
  const queue = { maxBytes: limits.queueMaxBytes, maxMessages: limits.queueMaxMessages };
  let nextId = 1;
  let size = 0;
  const counters: SessionCounters = { opened: 0, closedByCode: new Map(), refused: { instance: 0, user: 0, connectionRate: 0, subscribeRate: 0 }, framesSent: 0 };
  const { connectionRate, subscribeRate } = limits;
  const arrivals = connectionRate.perSecond > 0 ? createRateLimiter({ ratePerSecond: connectionRate.perSecond, burst: connectionRate.burst }) : undefined;
  const subscribes = subscribeRate.perSecond > 0 ? { ...subscribeRate, refused: counters.refused } : undefined;
  /** Sessions whose token expires, checked by one sweep for all instead of a timer each. */
  const expiring = new Set<Session>();
  let sweep: ReturnType<typeof setInterval> | undefined;

  const sweepExpired = () => {
    const now = Date.now();
    for (const session of expiring) session.expireAt(now);
    if (expiring.size === 0) {
      clearInterval(sweep);
      sweep = undefined;
    }
  };

  const remove = (session: Session, code: number) => {
    size--;
    counters.closedByCode.set(code, (counters.closedByCode.get(code) ?? 0) + 1);
    expiring.delete(session);
    const mine = byUser.get(session.userId);
    if (mine === session) byUser.delete(session.userId);
    else if (Array.isArray(mine)) {
      const at = mine.indexOf(session);
      if (at >= 0) mine.splice(at, 1);
      if (mine.length === 1) byUser.set(session.userId, mine[0]!);
    }
    const role = byRole.get(session.role);
    if (role?.delete(session) && role.size === 0) byRole.delete(session.role);
    byTransport.set(session.transport.kind, (byTransport.get(session.transport.kind) ?? 1) - 1);
  };

  return {
    get size() {
      return size;
    },
    counters,
    admit(clientAddress) {
      const waitMs = arrivals?.take(clientAddress) ?? 0;
      if (waitMs === 0) return;
      counters.refused.connectionRate++;
      throw new RateLimitError(`Too many new connections from this address: more than ${connectionRate.perSecond}/s (CONNECTION_RATE_PER_IP); retry after the delay`, waitMs);
    },
    open(viewer, transport, codes) {
      if (size >= limits.maxConnections) {
        counters.refused.instance++;
        throw new ConnectionLimitError(503, `This Herald instance holds its maximum of ${limits.maxConnections} connections (MAX_CONNECTIONS); retry later`);
      }
      const mine = byUser.get(viewer.userId);
      if (count(mine) >= limits.maxConnectionsPerUser) {
        counters.refused.user++;
        throw new ConnectionLimitError(429, `User already holds ${limits.maxConnectionsPerUser} connections (MAX_CONNECTIONS_PER_USER); close one first`);
      }
      const session = new Session({ id: nextId++, viewer, transport, queue, codes, onClosed: remove, counters, subscribeRate: subscribes });
      size++;
      counters.opened++;
      if (mine === undefined) byUser.set(viewer.userId, session);
      else if (Array.isArray(mine)) mine.push(session);
      else byUser.set(viewer.userId, [mine, session]);
      const role = byRole.get(viewer.role);
      if (role) role.add(session);
      else byRole.set(viewer.role, new Set([session]));
      byTransport.set(transport.kind, (byTransport.get(transport.kind) ?? 0) + 1);
      if (session.expiresAt !== undefined) {
        expiring.add(session);
        if (!sweep) {
          sweep = setInterval(sweepExpired, EXPIRY_SWEEP_MS);
          sweep.unref?.();
        }
      }
      return session;
    },
    closeUser(userId, code, reason, which) {
      const sessions = list(byUser.get(userId)).filter((session) => !which || which(session));
      for (const session of sessions) session.close(code, reason);
      return sessions.length;
    },
    closeAll(code, reason) {
      for (const bucket of [...byUser.values()]) for (const session of list(bucket)) session.close(code, reason);
    },
    sessionsOf: (userId) => list(byUser.get(userId)),
    snapshot() {
      return {
        total: size,
        byTransport: [...byTransport].filter(([, n]) => n > 0).map(([transport, n]) => ({ transport, count: n })),
        byRole: [...byRole].map(([role, set]) => ({ role, count: set.size })),
        distinctUsers: byUser.size,
      };
    },
  };
}
