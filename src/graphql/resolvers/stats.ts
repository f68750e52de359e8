/** connectionStats: admins only. */
import type { Resolvers } from '../generated/resolvers-types.js';
import { requireRole } from '../guards.js';

const TRANSPORTS = { websocket: 'WEBSOCKET', sse: 'SSE' } as const;

export const statsResolvers: Resolvers = {
  Query: {
    async connectionStats(_, __, ctx) {
      requireRole(ctx, ['admin'], 'connectionStats');
      const snapshot = ctx.hub.connections.snapshot();
      const eventsLastMinute = await ctx.hub.store.countSince(Date.now() - 60_000);
      return {
        total: snapshot.total,
        byTransport: snapshot.byTransport.map((t) => ({ transport: TRANSPORTS[t.transport], count: t.count })),
        byRole: snapshot.byRole.map((r) => ({ role: r.role, count: r.count })),
        distinctUsers: snapshot.distinctUsers,
        eventsLastMinute,
      };
    },
  },
};
