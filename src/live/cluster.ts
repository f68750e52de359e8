/**
 * The instances of one Herald cluster and their live connections, for `connectionStats`: this instance's own
 * registry, and, with a bus between instances, every other instance that reported within the liveness window
 * (an instance that stops reporting, e.g. killed, drops out once its last report expires).
 */
import type { ConnectionSnapshot, SessionRegistry } from './session-registry.js';

export interface InstanceConnections {
  readonly instanceId: string;
  /** This instance (its snapshot is taken now; the others' are their latest report). */
  readonly self: boolean;
  readonly snapshot: ConnectionSnapshot;
  /** When the snapshot was taken (ms since the epoch). */
  readonly seenAt: number;
}

export interface ClusterDirectory {
  /** Every live instance, this one first. */
  instances(): Promise<InstanceConnections[]>;
  close(): Promise<void>;
}

/** One instance alone (no bus between instances). */
export function createLocalCluster(instanceId: string, sessions: Pick<SessionRegistry, 'snapshot'>): ClusterDirectory {
  return {
    instances: async () => [{ instanceId, self: true, snapshot: sessions.snapshot(), seenAt: Date.now() }],
    close: async () => {},
  };
}
