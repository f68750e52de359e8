/**
 * Resolvers of schema/notifications.graphql: the viewer's notifications and their read state. Every role that
 * receives events has its own state; services (publishers) are FORBIDDEN. Cursors are the events' cursors.
 */
import { encodeCursor, positionOf } from '../../events/model.js';
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

const view = (state: NotificationState) => ({
  unreadCount: state.unreadCount,
  unreadCountCapped: state.unreadCountCapped,
  readThrough: state.readThrough === null ? null : encodeCursor(state.readThrough),
  clearedThrough: state.clearedThrough === null ? null : encodeCursor(state.clearedThrough),
  updatedAt: state.updatedAt,
});

export function createNotificationResolvers(notifications: Notifications): Resolvers {
  return {
    Query: {
      notificationState: async (_, __, ctx) => view(await notifications.state(reader(ctx))),
      async notifications(_, { first, after, unreadOnly, includeArchived, types }, ctx) {
        const viewer = reader(ctx);
        if (first < 1 || first > MAX_PAGE) throw new ValidationError(`first: must be between 1 and ${MAX_PAGE}`, { details: { field: 'first' } });
        ctx.budget.charge(first);
        const page = await notifications.list(viewer, {
          first,
          after: parseCursor(after, 'after'),
          unreadOnly: unreadOnly ?? false,
          includeArchived: includeArchived ?? false,
          types: types ?? undefined,
        });
        const edges = page.notifications.map((node) => ({ cursor: encodeCursor(positionOf(node.event)), node }));
        return { edges, pageInfo: { endCursor: edges.length ? edges[edges.length - 1]!.cursor : null, hasNextPage: page.hasNextPage } };
      },
    },
    Mutation: {
      markNotificationsRead: async (_, { ids }, ctx) => view(await notifications.markRead(reader(ctx), ids)),
      markNotificationsUnread: async (_, { ids }, ctx) => view(await notifications.markUnread(reader(ctx), ids)),
      archiveNotifications: async (_, { ids }, ctx) => view(await notifications.archive(reader(ctx), ids)),
      markAllNotificationsRead: async (_, { through }, ctx) => view(await notifications.markAllRead(reader(ctx), parseCursor(through, 'through'))),
      clearNotifications: async (_, { through }, ctx) => view(await notifications.clear(reader(ctx), parseCursor(through, 'through'))),
    },
    Subscription: {
      notificationStateChanged: {
        subscribe: (_, __, ctx) => notifications.watch(reader(ctx)) as AsyncIterable<never>,
        resolve: (state: NotificationState) => view(state),
      },
    },
  };
}
