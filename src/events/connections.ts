/** Counts open live connections (per instance) for `connectionStats`. */
import type { Role } from './catalogue.js';
import type { Viewer } from './model.js';

export type TransportKind = 'websocket' | 'sse';

export interface ConnectionSnapshot {
  readonly total: number;
  readonly byTransport: ReadonlyArray<{ transport: TransportKind; count: number }>;
  readonly byRole: ReadonlyArray<{ role: Role; count: number }>;
  readonly distinctUsers: number;
}

export interface ConnectionRegistry {
  /** Records an open connection; call the returned function exactly when it closes (idempotent). */
  open(transport: TransportKind, viewer: Viewer): () => void;
  snapshot(): ConnectionSnapshot;
}

export function createConnectionRegistry(): ConnectionRegistry {
  const byTransport = new Map<TransportKind, number>();
  const byRole = new Map<Role, number>();
  const users = new Map<string, number>();
  let total = 0;
  const bump = <K>(map: Map<K, number>, key: K, delta: number) => {
    const n = (map.get(key) ?? 0) + delta;
    if (n <= 0) map.delete(key);
    else map.set(key, n);
  };
  return {
    open(transport, viewer) {
      total++;
      bump(byTransport, transport, 1);
      bump(byRole, viewer.role, 1);
      bump(users, viewer.userId, 1);
      let closed = false;
      return () => {
        if (closed) return;
        closed = true;
        total--;
        bump(byTransport, transport, -1);
        bump(byRole, viewer.role, -1);
        bump(users, viewer.userId, -1);
      };
    },
    snapshot() {
      return {
        total,
        byTransport: [...byTransport].map(([transport, count]) => ({ transport, count })),
        byRole: [...byRole].map(([role, count]) => ({ role, count })),
        distinctUsers: users.size,
      };
    },
  };
}
