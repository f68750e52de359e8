/**
 * Resolvers of schema/notifications.graphql: the viewer's notifications and their read state. Every role that
 * receives events has its own state; services (publishers) are FORBIDDEN. Cursors are the events' cursors.
 */
import type { Notifications } from '../../notifications/notifications.js';
import type { NotificationState } from '../../notifications/model.js';
import type { Resolvers } from '../generated/resolvers-types.js';
import type { GraphQLContext } from '../context.js';
import { parseCursor, requireRole } from '../guards.js';
import { ValidationError } from '../../errors.js';

/** Largest `first` of `notifications`. */
const MAX_PAGE = 100;

const READERS = ['customer', 'delivery_partner', 'supplier', 'admin'] as const;
const reader = (ctx: GraphQLContext) => requireRole(ctx, READERS, 'Notifications');

/** The state as GraphQL shows it: positions as this log's cursors. */
const view = (state: NotificationState, ctx: GraphQLContext) => ({
  unreadCount: state.unreadCount,
  unreadCountCapped: state.unreadCountCapped,
  readThrough: state.readThrough === null ? null : ctx.hub.cursors.encode(state.readThrough),
  clearedThrough: state.clearedThrough === null ? null : ctx.hub.cursors.encode(state.clearedThrough),
  updatedAt: state.updatedAt,
});

export function createNotificationResolvers(notifications: Notifications): Resolvers {
  return {
    Query: {
      notificationState: async (_, __, ctx) => view(await notifications.state(reader(ctx)), ctx),
      async notifications(_, { first, after, unreadOnly, includeArchived, types }, ctx) {
        const viewer = reader(ctx);
        if (first < 1 || first > MAX_PAGE) throw new ValidationError(`first: must be between 1 and ${MAX_PAGE}`, { details: { field: 'first' } });
        ctx.budget.charge(first);
        const page = await notifications.list(viewer, {
          first,
          after: parseCursor(ctx, after, 'after'),
          unreadOnly: unreadOnly ?? false,
          includeArchived: includeArchived ?? false,
          types: types ?? undefined,
        });
        const edges = page.notifications.map((node) => ({ cursor: ctx.hub.cursors.encode(node.event.seq), node }));
        return { edges, pageInfo: { endCursor: edges.length ? edges[edges.length - 1]!.cursor : null, hasNextPage: page.hasNextPage } };
      },
    },
    Mutation: {
      markNotificationsRead: async (_, { ids }, ctx) => view(await notifications.markRead(reader(ctx), ids), ctx),
      markNotificationsUnread: async (_, { ids }, ctx) => view(await notifications.markUnread(reader(ctx), ids), ctx),
      archiveNotifications: async (_, { ids }, ctx) => view(await notifications.archive(reader(ctx), ids), ctx),
      markAllNotificationsRead: async (_, { through }, ctx) => view(await notifications.markAllRead(reader(ctx), parseCursor(ctx, through, 'through')), ctx),
      clearNotifications: async (_, { through }, ctx) => view(await notifications.clear(reader(ctx), parseCursor(ctx, through, 'through')), ctx),
    },
    Subscription: {
      notificationStateChanged: {
        subscribe: (_, __, ctx) => notifications.watch(reader(ctx)) as AsyncIterable<never>,
        resolve: (state: NotificationState, _args: unknown, ctx: GraphQLContext) => view(state, ctx),
      },
    },
  };
}
