/**
 * The HTTP face: Yoga at /graphql (queries, mutations, SSE subscriptions, GraphiQL) and /health.
 * Authentication happens here, once per request; resolvers only authorize.
 */
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphQLSchema } from 'graphql';
import type { Hub } from '../events/hub.js';
import type { TokenVerifier } from '../auth/tokens.js';
import type { Logger } from '../log.js';
import type { GraphQLContext } from '../graphql/context.js';
import { createMaskError, toGraphQLError } from '../graphql/errors.js';
import { isAppError } from '../errors.js';
import { createSsePlugin } from './sse.js';
import { isIntrospectionOnly, missingCredentials, viewerFromRequest } from './auth.js';
import type { WsExtra } from './ws.js';

export interface HttpOptions {
  readonly schema: GraphQLSchema;
  readonly hub: Hub;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  /** @default true */
  readonly graphiql?: boolean;
  /** Answer introspection without a token. @default false */
  readonly publicIntrospection?: boolean;
  /** @default 15000 */
  readonly sseHeartbeatMs?: number;
  /** Extra Yoga plugins (e.g. export routes, metrics). */
  readonly plugins?: readonly Plugin[];
}

const TOUR_QUERY = `# Welcome to Herald. Every operation needs a token:
#   npm run token -- --sub admin-1 --role admin
# then put {"Authorization": "Bearer <token>"} in the Headers tab below and press run.
subscription Live {
  events {
    __typename
    id
    type
    level
    userId
    timestamp
    cursor
    ... on OrderCreatedEvent { orderId amount currency }
  }
}
`;

function useHealth(hub: Hub): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/health') return;
      try {
        await hub.store.lastSeq();
        endResponse(Response.json({ status: 'ok', store: hub.store.kind }));
      } catch {
        endResponse(new fetchAPI.Response(JSON.stringify({ status: 'unavailable', store: hub.store.kind }), { status: 503, headers: { 'content-type': 'application/json' } }));
      }
    },
  };
}

export function createHttpHandler(options: HttpOptions): YogaServerInstance<Record<string, unknown>, GraphQLContext> {
  const { hub, verifier, logger } = options;
  const sse = createSsePlugin({ heartbeatMs: options.sseHeartbeatMs });

  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema: options.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Liveness only (no dependency checks); /health below also checks the event log.
    healthCheckEndpoint: '/health/live',
    graphiql: options.graphiql === false ? false : { title: 'Herald', defaultQuery: TOUR_QUERY, subscriptionsProtocol: 'SSE' },
    // The GraphiQL bundle is served inline, not from a CDN: works offline and behind strict egress rules.
    renderGraphiQL,
    maskedErrors: { maskError: createMaskError(logger) },
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.error(args.map(String).join(' ')),
    },
    plugins: [useHealth(hub), sse.plugin, ...(options.plugins ?? [])],
    context: async (initial): Promise<GraphQLContext> => {
      // graphql-ws: the transport authenticated the connection at connection_init.
      const extra = (initial as { extra?: WsExtra }).extra;
      if (extra?.viewer) return { viewer: extra.viewer, hub, transport: 'websocket' };

      const request = initial.request;
      const streaming = (request.headers.get('accept') ?? '').includes('text/event-stream');
      try {
        const viewer = viewerFromRequest(request, verifier, { allowQueryToken: streaming });
        if (!viewer) {
          if (options.publicIntrospection && isIntrospectionOnly(initial.params?.query)) {
            return { viewer: undefined, hub, transport: 'http' };
          }
          throw missingCredentials();
        }
        return {
          viewer,
          hub,
          transport: streaming ? 'sse' : 'http',
          lastEventId: streaming ? (request.headers.get('last-event-id') ?? undefined) : undefined,
          stream: streaming ? sse.streamState(request) : undefined,
        };
      } catch (error) {
        if (!isAppError(error)) throw error;
        const gql = toGraphQLError(error);
        if (error.status === 401) {
          (gql.extensions as Record<string, unknown>)['http'] = { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } };
        }
        throw gql;
      }
    },
  });
}
