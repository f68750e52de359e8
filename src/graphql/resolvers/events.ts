/** Resolvers of the event log: the Event interface, queries, publishing and subscriptions. */
import { getSpec, typesReceivableBy } from '../../events/catalogue.js';
import type { EventId, HeraldEvent } from '../../events/model.js';
import type { Resolvers } from '../generated/resolvers-types.js';
import type { GraphQLContext } from '../context.js';
import type { LiveFeed } from '../../events/stream.js';
import { parseCursor, requireRole, requireViewer } from '../guards.js';
import { ValidationError } from '../../errors.js';

const MAX_PAGE = 500;

/** Passes each event through, noting its cursor for the SSE `id:` line. */
function resolveStreamed(event: HeraldEvent, _args: unknown, ctx: GraphQLContext): HeraldEvent {
  if (ctx.stream) ctx.stream.cursor = ctx.hub.cursors.encode(event.seq);
  return event;
}

/** Hands the feed to a transport that pushes (it renders each event once per group, see live-groups.ts). */
function keepFeed(ctx: GraphQLContext, feed: LiveFeed): LiveFeed {
  if (ctx.stream) ctx.stream.feed = feed;
  return feed;
}

/** `Last-Event-ID` (set by a reconnecting EventSource) wins over the `after` the stream was opened with. */
const resumeFrom = (ctx: GraphQLContext, after: string | null | undefined) =>
  ctx.lastEventId ? ctx.hub.resumePoint(ctx.lastEventId, 'Last-Event-ID') : ctx.hub.resumePoint(after, 'after');

export const eventResolvers: Resolvers = {
  Event: {
    __resolveType: (event) => getSpec(event.type).graphqlType as never,
  },
  Query: {
    event: (_, { id }, ctx) => ctx.hub.getEvent(requireViewer(ctx), id as EventId),
    async events(_, { filter, first, after, order }, ctx) {
      const viewer = requireViewer(ctx);
      if (first < 1 || first > MAX_PAGE) throw new ValidationError(`first: must be between 1 and ${MAX_PAGE}`, { details: { field: 'first' } });
      ctx.budget.charge(first);
      const rows = await ctx.hub.listEvents(
        viewer,
        {
          userId: filter?.userId ?? undefined,
          types: filter?.types ?? undefined,
          levels: filter?.levels ?? undefined,
          sources: filter?.sources ?? undefined,
          from: filter?.from ?? undefined,
          to: filter?.to ?? undefined,
        },
        { afterSeq: parseCursor(ctx, after, 'after'), limit: first + 1, order: order === 'OLDEST_FIRST' ? 'ASC' : 'DESC' },
      );
      const page = rows.slice(0, first);
      return {
        edges: page.map((node) => ({ cursor: ctx.hub.cursors.encode(node.seq), node })),
        pageInfo: { endCursor: page.length ? ctx.hub.cursors.encode(page[page.length - 1]!.seq) : null, hasNextPage: rows.length > first },
      };
    },
    viewer(_, __, ctx) {
      const viewer = requireViewer(ctx);
      return { userId: viewer.userId, role: viewer.role, receivableTypes: [...typesReceivableBy(viewer.role)] };
    },
  },
  Mutation: {
    publishEvent: (_, { input }, ctx) => ctx.hub.publish(input, requireRole(ctx, ['service', 'admin'], 'publishEvent')),
    publishEvents: (_, { inputs }, ctx) => ctx.hub.publishMany(inputs, requireRole(ctx, ['service', 'admin'], 'publishEvents')),
  },
  Subscription: {
    events: {
      async subscribe(_, { types, after }, ctx) {
        const viewer = requireViewer(ctx);
        return keepFeed(ctx, await ctx.hub.subscribe(viewer, { types: types ?? undefined, afterSeq: resumeFrom(ctx, after) }));
      },
      resolve: resolveStreamed,
    },
    deliveryTracking: {
      async subscribe(_, { deliveryId, after }, ctx) {
        const viewer = requireViewer(ctx);
        return keepFeed(ctx, await ctx.hub.trackDelivery(viewer, deliveryId, { afterSeq: resumeFrom(ctx, after) }));
      },
      resolve: resolveStreamed,
    },
  },
};
