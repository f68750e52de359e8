/** Admin operations on live connections: connectionStats, closeUserSessions, revokeSessions. */
import type { Resolvers } from '../generated/resolvers-types.js';
import { requireRole } from '../guards.js';
import { HeraldCloseCode } from '../../../clients/protocol/index.js';
import type { Revocations } from '../../auth/revocations.js';
import type { ClusterDirectory } from '../../live/cluster.js';
import type { ConnectionSnapshot } from '../../live/session-registry.js';

const TRANSPORTS = { websocket: 'WEBSOCKET', sse: 'SSE' } as const;

const figures = (snapshot: ConnectionSnapshot) => ({
  total: snapshot.total,
  byTransport: snapshot.byTransport.map((t) => ({ transport: TRANSPORTS[t.transport], count: t.count })),
  byRole: snapshot.byRole.map((r) => ({ role: r.role, count: r.count })),
  distinctUsers: snapshot.distinctUsers,
});

const MAX_REASON = 100;

export function createStatsResolvers(deps: { readonly revocations: Pick<Revocations, 'revoke'>; readonly cluster: ClusterDirectory }): Resolvers {
  return {
    Mutation: {
      revokeSessions(_, { userId }, ctx) {
        requireRole(ctx, ['admin'], 'revokeSessions');
        return deps.revocations.revoke(userId);
      },
      closeUserSessions(_, { userId, reason }, ctx) {
        requireRole(ctx, ['admin'], 'closeUserSessions');
        const why = `Session revoked${reason ? `: ${reason.slice(0, MAX_REASON)}` : ''}`;
        return ctx.hub.connections.closeUser(userId, HeraldCloseCode.SessionRevoked, why);
      },
    },
    Query: {
      async connectionStats(_, __, ctx) {
        requireRole(ctx, ['admin'], 'connectionStats');
        const [eventsLastMinute, instances] = await Promise.all([ctx.hub.store.countSince(Date.now() - 60_000), deps.cluster.instances()]);
        return {
          ...figures(ctx.hub.connections.snapshot()),
          eventsLastMinute,
          instances: instances.map((i) => ({ instanceId: i.instanceId, self: i.self, reportedAt: i.seenAt, ...figures(i.snapshot) })),
          clusterTotal: instances.reduce((sum, i) => sum + i.snapshot.total, 0),
        };
      },
    },
  };
}
