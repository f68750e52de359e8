/** Resolves the viewer of an HTTP request: `Authorization: Bearer`, or `access_token` for SSE. */
import { parse, type DocumentNode } from 'graphql';
import { bearerToken, type TokenVerifier, type VerifiedViewer } from '../auth/tokens.js';
import type { Plugin } from 'graphql-yoga';
import { AuthError, isAppError, type AppError } from '../errors.js';

export interface RequestCredentials {
  /** Accept `?access_token=` (EventSource cannot set headers). Never logged. */
  readonly allowQueryToken: boolean;
}

/** Returns the viewer, undefined when no credentials were sent, or throws AuthError/ForbiddenError. */
export function viewerFromRequest(request: Request, verifier: TokenVerifier, options: RequestCredentials): VerifiedViewer | undefined {
  let token = bearerToken(request.headers.get('authorization'));
  if (!token && options.allowQueryToken) {
    token = new URL(request.url).searchParams.get('access_token') ?? undefined;
  }
  return token ? verifier.verify(token) : undefined;
}

export const missingCredentials = () =>
  new AuthError('UNAUTHENTICATED', 'Authentication required: send "Authorization: Bearer <token>" (or access_token for SSE)');

/** True when every root field of every operation is `__schema`, `__type` or `__typename`. */
export function isIntrospectionOnly(query: unknown): boolean {
  if (typeof query !== 'string') return false;
  let document: DocumentNode;
  try {
    document = parse(query, { noLocation: true });
  } catch {
    return false;
  }
  return document.definitions.every(
    (def) =>
      def.kind === 'FragmentDefinition' ||
      (def.kind === 'OperationDefinition' &&
        def.operation === 'query' &&
        def.selectionSet.selections.every((s) => s.kind === 'Field' && s.name.value.startsWith('__'))),
  );
}

/** What the early check found: a verified viewer, or none (public introspection may still pass). */
export interface RequestAuth {
  readonly viewer: VerifiedViewer | undefined;
}

export interface AuthenticationOptions {
  readonly verifier: TokenVerifier;
  /** Let requests without a token through to the introspection check. @default false */
  readonly publicIntrospection?: boolean;
  /** @default '/graphql' */
  readonly endpoint?: string;
  /** Builds the error response (the boundary's error mapping). */
  readonly reject: (error: AppError, fetchAPI: { Response: typeof Response }) => Response;
}

/**
 * Authenticates GraphQL requests before their body is read or parsed, so a request without a valid token
 * costs a header check: it gets its 401/403 at once. The result is kept per request for the context factory.
 */
export function useAuthentication(options: AuthenticationOptions): { plugin: Plugin; authOf(request: Request): RequestAuth | undefined } {
  const endpoint = options.endpoint ?? '/graphql';
  const results = new WeakMap<Request, RequestAuth>();
  const plugin: Plugin = {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint || request.method === 'OPTIONS') return;
      const streaming = (request.headers.get('accept') ?? '').includes('text/event-stream');
      try {
        const viewer = viewerFromRequest(request, options.verifier, { allowQueryToken: streaming });
        if (!viewer && !options.publicIntrospection) throw missingCredentials();
        results.set(request, { viewer });
      } catch (error) {
        if (!isAppError(error)) throw error;
        endResponse(options.reject(error, fetchAPI));
      }
    },
  };
  return { plugin, authOf: (request) => results.get(request) };
}
