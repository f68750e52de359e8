/** Analytics queries: admins only. The domain (src/analytics) checks arguments and computes; this maps shapes. */
import type { Analytics, EventSlice } from '../../analytics/analytics-service.js';
import type { RateBucket } from '../../analytics/analytics-store.js';
import type { ErrorKind as DomainErrorKind } from '../../analytics/error-store.js';
import type { CursorCodec } from '../../events/cursor.js';
import type { ErrorKind, Resolvers } from '../generated/resolvers-types.js';
import type { GraphQLContext } from '../context.js';
import { parseCursor, requireRole } from '../guards.js';

const DEFAULT_PAGE = 50;

const admin = (ctx: GraphQLContext, field: string) => requireRole(ctx, ['admin'], field);

const toConnection = ({ events, hasNextPage }: EventSlice, cursors: CursorCodec) => ({
  edges: events.map((node) => ({ cursor: cursors.encode(node.seq), node })),
  pageInfo: { endCursor: events.length ? cursors.encode(events[events.length - 1]!.seq) : null, hasNextPage },
});

const toErrorKind = (kind: DomainErrorKind) => kind.toUpperCase() as ErrorKind;

/** Today's UTC day, `YYYY-MM-DD`. */
const today = () => new Date().toISOString().slice(0, 10);

export function createAnalyticsResolvers(analytics: Analytics): Resolvers {
  return {
    Query: {
      analyticsSummary(_, { date }, ctx) {
        admin(ctx, 'analyticsSummary');
        return analytics.summary(date ?? today());
      },
      async criticalEvents(_, { hours, first, after }, ctx) {
        admin(ctx, 'criticalEvents');
        const page = { first: first ?? DEFAULT_PAGE, afterSeq: parseCursor(ctx, after, 'after') };
        ctx.budget.charge(page.first);
        return toConnection(await analytics.criticalEvents(hours ?? 24, page), ctx.hub.cursors);
      },
      async timeline(_, { userId, from, to, first, after, order }, ctx) {
        admin(ctx, 'timeline');
        const page = {
          first: first ?? DEFAULT_PAGE,
          afterSeq: parseCursor(ctx, after, 'after'),
          order: order === 'NEWEST_FIRST' ? ('DESC' as const) : ('ASC' as const),
        };
        ctx.budget.charge(page.first);
        return toConnection(await analytics.timeline(userId, { from: from ?? undefined, to: to ?? undefined }, page), ctx.hub.cursors);
      },
      async errorSummary(_, { hours, latest }, ctx) {
        admin(ctx, 'errorSummary');
        const summary = await analytics.errorSummary(hours ?? 24, latest ?? 20);
        return {
          ...summary,
          byKind: summary.byKind.map((k) => ({ kind: toErrorKind(k.kind), count: k.count })),
          latest: summary.latest.map((e) => ({ ...e, kind: toErrorKind(e.kind) })),
        };
      },
      userActivityHeatmap(_, { userId, days }, ctx) {
        admin(ctx, 'userActivityHeatmap');
        return analytics.userActivityHeatmap(userId, days ?? 30);
      },
      async eventRate(_, { from, to, bucket }, ctx) {
        admin(ctx, 'eventRate');
        const series = await analytics.eventRate(from, to, (bucket ?? 'HOUR').toLowerCase() as RateBucket);
        return { ...series, bucket: bucket ?? 'HOUR', };
      },
    },
  };
}
