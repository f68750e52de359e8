/**
 * Webhook endpoints, the delivery log and replays. Supplier and admin tokens only; ownership is checked by the
 * webhook API, which these resolvers reach through a closure (the GraphQL context carries the hub only).
 */
import type { WebhookApi } from '../../webhooks/api.js';
import type { DeliveryId, EndpointId } from '../../webhooks/model.js';
import type { Resolvers } from '../generated/resolvers-types.js';
import type { GraphQLContext } from '../context.js';
import { requireRole } from '../guards.js';

const manager = (ctx: GraphQLContext) => requireRole(ctx, ['supplier', 'admin'], 'Webhook endpoints');

export function createWebhookResolvers(api: WebhookApi): Resolvers {
  return {
    Query: {
      webhookEndpoints: (_, { ownerId }, ctx) => api.list(manager(ctx), ownerId ?? undefined),
      async webhookDeliveries(_, { endpointId, status, first, after }, ctx) {
        ctx.budget.charge(first ?? 20);
        const page = await api.deliveries(manager(ctx), endpointId as EndpointId, {
          status: status ?? undefined,
          first: first ?? 20,
          after: after ?? undefined,
        });
        return {
          edges: page.items.map((node) => ({ cursor: node.id, node })),
          pageInfo: { endCursor: page.items.at(-1)?.id ?? null, hasNextPage: page.hasNextPage },
        };
      },
    },
    Mutation: {
      createWebhookEndpoint: (_, { input }, ctx) => api.create(manager(ctx), input),
      updateWebhookEndpoint: (_, { id, input }, ctx) => api.update(manager(ctx), id as EndpointId, input),
      deleteWebhookEndpoint: (_, { id }, ctx) => api.remove(manager(ctx), id as EndpointId),
      rotateWebhookSecret: (_, { id }, ctx) => api.rotateSecret(manager(ctx), id as EndpointId),
      enableWebhookEndpoint: (_, { id }, ctx) => api.setEnabled(manager(ctx), id as EndpointId, true),
      disableWebhookEndpoint: (_, { id }, ctx) => api.setEnabled(manager(ctx), id as EndpointId, false),
      sendTestWebhook: (_, { endpointId }, ctx) => api.sendTest(manager(ctx), endpointId as EndpointId),
      replayWebhookDelivery: (_, { id }, ctx) => api.replayDelivery(manager(ctx), id as DeliveryId),
      replayWebhookEndpoint: (_, { endpointId, since }, ctx) => api.replayEndpoint(manager(ctx), endpointId as EndpointId, since),
    },
    WebhookDelivery: {
      attempts: (delivery) => [...delivery.attemptLog],
      nextAttemptAt: (delivery) => (delivery.status === 'pending' ? delivery.nextAttemptAt : null),
    },
    WebhookAttempt: {
      number: (attempt) => attempt.n,
    },
    WebhookTestResult: {
      success: (result) => result.ok,
    },
    WebhookDeliveryStatus: { PENDING: 'pending', SUCCEEDED: 'succeeded', FAILED: 'failed' },
    WebhookErrorKind: {
      TIMEOUT: 'timeout',
      CONNECT: 'connect',
      DNS: 'dns',
      UNSAFE_ADDRESS: 'unsafe_address',
      HTTP_STATUS: 'http_status',
      NETWORK: 'network',
      TOO_LARGE: 'too_large',
    },
  };
}
