/** Resolves the viewer of an HTTP request: `Authorization: Bearer`, or `access_token` for SSE. */
import { parse, type DocumentNode } from 'graphql';
import { bearerToken, type TokenVerifier, type VerifiedViewer } from '../auth/tokens.js';
import { AuthError } from '../errors.js';

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
