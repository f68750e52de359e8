/**
 * The HTTP face: Yoga at /graphql (queries, mutations, GraphiQL) and /health; SSE requests at /graphql are
 * served by sse.ts on Node's own request and response. Authentication happens once per request, before the
 * body is parsed; resolvers only authorize.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Hub } from '../events/hub.js';
import type { TokenVerifier } from '../auth/tokens.js';
import type { Logger } from '../log.js';
import type { GraphQLContext } from '../graphql/context.js';
import { createMaskError, createYogaLogger, toGraphQLError } from '../graphql/errors.js';
import { createRowBudget, documentLimitPlugins, type DocumentLimits } from '../graphql/limits.js';
import { useLiveCapture } from '../graphql/live-groups.js';
import type { Limits } from '../config.js';
import type { AppError } from '../errors.js';
import { useGraphiQLPage } from './graphiql.js';
import { isIntrospectionOnly, missingCredentials, useAuthentication } from './auth.js';
import type { SseHandler } from './sse.js';
import { errorBody, errorHeaders, writeError } from './error-response.js';
import { requestIdOf } from './request-id.js';
import { logIdsOf, type LiveExtra } from './operation.js';
import { createLogThrottle } from './log-throttle.js';

export interface HttpOptions {
  readonly schema: GraphQLSchema;
  readonly hub: Hub;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  readonly limits: DocumentLimits & Pick<Limits, 'maxRowsPerRequest'>;
  /** @default true */
  readonly graphiql?: boolean;
  /** Answer introspection without a token. @default false */
  readonly publicIntrospection?: boolean;
  /** Whether shutdown has begun (`/ready` answers 503). @default never */
  readonly isDraining?: () => boolean;
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

/** Parsed documents and parse errors kept per distinct source text, bounded in total source size. */
const DOCUMENT_CACHE_BYTES = 4 * 1024 * 1024;
const documentCache = <T extends {}>() => {
  const cache = new LRUCache<string, T>({ max: 1000, maxSize: DOCUMENT_CACHE_BYTES, sizeCalculation: (_value, key) => key.length + 64 });
  return { get: (key: string) => cache.get(key), set: (key: string, value: T) => void cache.set(key, value) };
};

/** `/health`: the event log answers. `/ready`: that, and not shutting down (a load balancer stops sending). */
function useHealth(hub: Hub, isDraining: () => boolean): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname === '/ready' && isDraining()) {
        endResponse(new fetchAPI.Response(JSON.stringify({ status: 'draining', store: hub.store.kind }), { status: 503, headers: { 'content-type': 'application/json' } }));
        return;
      }
      if (url.pathname !== '/health' && url.pathname !== '/ready') return;
      try {
        await hub.store.lastSeq();
        endResponse(Response.json({ status: 'ok', store: hub.store.kind }));
      } catch {
        endResponse(new fetchAPI.Response(JSON.stringify({ status: 'unavailable', store: hub.store.kind }), { status: 503, headers: { 'content-type': 'application/json' } }));
      }
    },
  };
}

/** A GraphQL-shaped error response for failures before execution (authentication, size). */
function errorResponse(error: AppError, fetchAPI: { Response: typeof Response }): Response {
  const body = errorBody(error);
  const { 'content-length': _length, ...headers } = errorHeaders(error, body);
  return new fetchAPI.Response(body, { status: error.status, headers: headers as Record<string, string> });
}

export type HttpHandler = YogaServerInstance<Record<string, unknown>, GraphQLContext>;

/**
 * Remembers which request (and live session) each unexpected error of an execution came from, before Yoga's masking
 * (registered after every plugin) logs it: that log line then carries the ids. Errors are keys of a WeakMap, so
 * nothing outlives them.
 */
function useErrorLogIds(): { plugin: Plugin; idsOf(error: unknown): Record<string, unknown> | undefined } {
  const ids = new WeakMap<object, Record<string, unknown>>();
  const plugin: Plugin = {
    onExecute({ args }) {
      return {
        onExecuteDone({ result }) {
          const errors = (result as { errors?: readonly Error[] }).errors;
          if (!errors?.length) return;
          const context = args.contextValue as { req?: IncomingMessage; extra?: LiveExtra };
          const found = context.req ? { requestId: requestIdOf(context.req) } : logIdsOf(context.extra);
          for (const error of errors) ids.set((error as { originalError?: Error }).originalError ?? error, found);
        },
      };
    },
  };
  return { plugin, idsOf: (error) => (typeof error === 'object' && error !== null ? ids.get(error) : undefined) };
}

export function createHttpHandler(options: HttpOptions): HttpHandler {
  const { hub, verifier, logger, limits } = options;
  const auth = useAuthentication({ verifier, publicIntrospection: options.publicIntrospection, reject: errorResponse });
  const errorLogIds = useErrorLogIds();

  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema: options.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Liveness only (no dependency checks); /health below also checks the event log.
    healthCheckEndpoint: '/health/live',
    // Served by useGraphiQLPage (rendered and compressed once, cacheable) when enabled.
    graphiql: false,
    parserAndValidationCache: { documentCache: documentCache(), errorCache: documentCache() },
    maskedErrors: { maskError: createMaskError(logger, errorLogIds.idsOf) },
    logging: createYogaLogger(logger),
    plugins: [
      useHealth(hub, options.isDraining ?? (() => false)),
      ...(options.graphiql === false ? [] : [useGraphiQLPage({ title: 'Herald', defaultQuery: TOUR_QUERY })]),
      auth.plugin,
      ...documentLimitPlugins(limits),
      useLiveCapture(),
      errorLogIds.plugin,
      ...(options.plugins ?? []),
    ],
    context: async (initial): Promise<GraphQLContext> => {
      const budget = createRowBudget(limits.maxRowsPerRequest);
      // WebSocket and SSE (operation.ts): the transport authenticated the connection.
      const extra = (initial as { extra?: LiveExtra }).extra;
      if (extra?.viewer) return { viewer: extra.viewer, hub, transport: extra.transport, budget, stream: {}, lastEventId: extra.lastEventId };

      const viewer = auth.authOf(initial.request)?.viewer;
      if (!viewer) {
        if (options.publicIntrospection && isIntrospectionOnly(initial.params?.query)) {
          return { viewer: undefined, hub, transport: 'http', budget };
        }
        throw toHttpError(missingCredentials());
      }
      return { viewer, hub, transport: 'http', budget };
    },
  });
}

function toHttpError(error: AppError) {
  const gql = toGraphQLError(error);
  if (error.status === 401) {
    (gql.extensions as Record<string, unknown>)['http'] = { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } };
  }
  return gql;
}

export interface RequestListenerOptions {
  /** MAX_REQUEST_BYTES */
  readonly maxRequestBytes: number;
  readonly logger: Logger;
  /** SSE requests at the GraphQL endpoint go here instead of Yoga. */
  readonly sse: SseHandler;
  /** `GET /metrics` (Prometheus). */
  readonly metrics?: { serve(req: IncomingMessage, res: ServerResponse): Promise<void> };
}

/**
 * Node's request listener: gives the request its id (`X-Request-Id`, request-id.ts), refuses bodies over
 * `maxRequestBytes` with 413 before anything buffers them, and bodies of unknown length (chunked) with 411, since
 * their size is only known once read; then SSE streams to sse.ts and everything else to Yoga.
 */
export function createRequestListener(handler: HttpHandler, options: RequestListenerOptions) {
  const { maxRequestBytes, sse, metrics } = options;
  const refusals = createLogThrottle(options.logger, 'HTTP requests refused before they were read');
  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string) => {
    refusals.note({ requestId: requestIdOf(req), status, code });
    // The body is not read: close the connection rather than drain it.
    writeError(res, { status, code, message }, { connection: 'close' });
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('x-request-id', requestIdOf(req));
    if (metrics && req.method === 'GET' && req.url === '/metrics') return void metrics.serve(req, res);
    const length = req.headers['content-length'];
    if (length === undefined && req.headers['transfer-encoding'] !== undefined) {
      return refuse(req, res, 411, 'LENGTH_REQUIRED', 'Send the request body with a Content-Length header');
    }
    if (Number(length ?? 0) > maxRequestBytes) {
      return refuse(req, res, 413, 'REQUEST_TOO_LARGE', `Request body is larger than ${maxRequestBytes} bytes (MAX_REQUEST_BYTES)`);
    }
    if (sse.accepts(req)) return void sse.handle(req, res);
    void handler(req, res);
  };
}

