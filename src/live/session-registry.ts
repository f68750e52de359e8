/**
 * Every open session of this instance, indexed by user and by role, with the connection limits.
 * "Close every session of user X" is one call; `connectionStats` is a snapshot of it.
 */
import type { Role } from '../events/catalogue.js';
import { ConnectionLimitError } from '../errors.js';
import { Session, type SessionOptions, type SessionTransport, type TransportKind } from './session.js';

export interface SessionLimits {
  /** Sessions this instance accepts. @default 10000 (MAX_CONNECTIONS) */
  readonly maxConnections: number;
  /** Sessions one user may hold on this instance. @default 20 (MAX_CONNECTIONS_PER_USER) */
  readonly maxConnectionsPerUser: number;
  /** @default 1048576 (SESSION_QUEUE_MAX_BYTES) */
  readonly queueMaxBytes: number;
  /** @default 1000 (SESSION_QUEUE_MAX_MESSAGES) */
  readonly queueMaxMessages: number;
}

/** The defaults, written once: config.ts applies them to the environment variables named above. */
export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  maxConnections: 10_000,
  maxConnectionsPerUser: 20,
  queueMaxBytes: 1024 * 1024,
  queueMaxMessages: 1000,
};

export interface ConnectionSnapshot {
  readonly total: number;
  readonly byTransport: ReadonlyArray<{ transport: TransportKind; count: number }>;
  readonly byRole: ReadonlyArray<{ role: Role; count: number }>;
  readonly distinctUsers: number;
}

export interface SessionRegistry {
  /**
   * Opens a session for a verified viewer.
   * @throws ConnectionLimitError (503 instance full, 429 this user has too many) — nothing is opened
   */
  open(viewer: SessionOptions['viewer'], transport: SessionTransport, codes: SessionOptions['codes']): Session;
  /** Closes every session of one user (revocation); returns how many. */
  closeUser(userId: string, code: number, reason: string): number;
  /** Closes every session (shutdown). */
  closeAll(code: number, reason: string): void;
  sessionsOf(userId: string): readonly Session[];
  readonly size: number;
  snapshot(): ConnectionSnapshot;
}

export function createSessionRegistry(limits: SessionLimits = DEFAULT_SESSION_LIMITS): SessionRegistry {
  const byUser = new Map<string, Set<Session>>();
  const byRole = new Map<Role, Set<Session>>();
  const byTransport = new Map<TransportKind, number>();
  let nextId = 1;
  let size = 0;

  const remove = (session: Session) => {
    size--;
    const mine = byUser.get(session.userId);
    if (mine?.delete(session) && mine.size === 0) byUser.delete(session.userId);
    const role = byRole.get(session.role);
    if (role?.delete(session) && role.size === 0) byRole.delete(session.role);
    byTransport.set(session.transport.kind, (byTransport.get(session.transport.kind) ?? 1) - 1);
  };

  return {
    get size() {
      return size;
    },
    open(viewer, transport, codes) {
      if (size >= limits.maxConnections) {
        throw new ConnectionLimitError(503, `This Herald instance holds its maximum of ${limits.maxConnections} connections (MAX_CONNECTIONS); retry later`);
      }
      const mine = byUser.get(viewer.userId);
      if ((mine?.size ?? 0) >= limits.maxConnectionsPerUser) {
        throw new ConnectionLimitError(429, `User already holds ${limits.maxConnectionsPerUser} connections (MAX_CONNECTIONS_PER_USER); close one first`);
      }
      const session = new Session({
        id: nextId++,
        viewer,
        transport,
        queue: { maxBytes: limits.queueMaxBytes, maxMessages: limits.queueMaxMessages },
        codes,
        onClosed: remove,
      });
      size++;
      if (mine) mine.add(session);
      else byUser.set(viewer.userId, new Set([session]));
      const role = byRole.get(viewer.role);
      if (role) role.add(session);
      else byRole.set(viewer.role, new Set([session]));
      byTransport.set(transport.kind, (byTransport.get(transport.kind) ?? 0) + 1);
      return session;
    },
    closeUser(userId, code, reason) {
      const sessions = [...(byUser.get(userId) ?? [])];
      for (const session of sessions) session.close(code, reason);
      return sessions.length;
    },
    closeAll(code, reason) {
      for (const sessions of [...byUser.values()]) for (const session of [...sessions]) session.close(code, reason);
    },
    sessionsOf: (userId) => [...(byUser.get(userId) ?? [])],
    snapshot() {
      return {
        total: size,
        byTransport: [...byTransport].filter(([, count]) => count > 0).map(([transport, count]) => ({ transport, count })),
        byRole: [...byRole].map(([role, set]) => ({ role, count: set.size })),
        distinctUsers: byUser.size,
      };
    },
  };
}
