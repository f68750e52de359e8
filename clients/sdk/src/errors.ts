/**
 * Typed errors of the SDK. A `HeraldError` carries the hub's `extensions.code` (README "Errors": `FORBIDDEN`,
 * `BAD_USER_INPUT`, `TOKEN_EXPIRED`, `CURSOR_EXPIRED`...) or one of the SDK's own codes below.
 */

/** Codes the SDK uses when the hub did not give one. */
export type ClientErrorCode =
  /** The request never got an answer (connection refused, reset, DNS, timeout). */
  | 'NETWORK_ERROR'
  /** The hub answered something that is not a GraphQL response. */
  | 'BAD_RESPONSE'
  /** The hub closed the live connection with a code that means stop (4403, 4031, 4400...). */
  | 'CONNECTION_CLOSED'
  /** The client was closed. */
  | 'CLIENT_CLOSED'
  /** A handler passed to `on()` threw (the event counts as delivered; `cause` holds what it threw). */
  | 'HANDLER_ERROR'
  /** `getToken()` threw or returned no token. */
  | 'TOKEN_UNAVAILABLE';

/** Codes the hub documents (README "Errors"); any other string may appear too. */
export type ServerErrorCode =
  | 'UNAUTHENTICATED'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'GRAPHQL_PARSE_FAILED'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'QUERY_TOO_COMPLEX'
  | 'REQUEST_TOO_LARGE'
  | 'TOO_MANY_SUBSCRIPTIONS'
  | 'TOO_MANY_CONNECTIONS'
  | 'CURSOR_UNKNOWN'
  | 'CURSOR_EXPIRED'
  | 'STORE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

export type HeraldErrorCode = ServerErrorCode | ClientErrorCode | (string & {});

export interface HeraldErrorOptions {
  /** HTTP status, when HTTP carried the error. */
  readonly status?: number;
  /** WebSocket close code (or the SSE final frame's `code`), when a live connection ended. */
  readonly closeCode?: number;
  /** `extensions.field`: the input field at fault (`data.items[0].quantity`). */
  readonly field?: string;
  /** Every GraphQL error of the response, as received. */
  readonly errors?: readonly GraphQLErrorLike[];
  readonly cause?: unknown;
}

export interface GraphQLErrorLike {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: Record<string, unknown>;
}

export class HeraldError extends Error {
  override readonly name = 'HeraldError';
  readonly code: HeraldErrorCode;
  readonly status: number | undefined;
  readonly closeCode: number | undefined;
  readonly field: string | undefined;
  readonly errors: readonly GraphQLErrorLike[];

  constructor(code: HeraldErrorCode, message: string, options: HeraldErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.closeCode = options.closeCode;
    this.field = options.field;
    this.errors = options.errors ?? [];
  }

  /** Worth retrying as is: the network, a 5xx, an unavailable store. */
  get retryable(): boolean {
    if (this.code === 'NETWORK_ERROR' || this.code === 'STORE_UNAVAILABLE' || this.code === 'INTERNAL_SERVER_ERROR') return true;
    return this.status !== undefined && this.status >= 500 && this.code !== 'TOO_MANY_CONNECTIONS';
  }
}

/** A `HeraldError` from the first GraphQL error of a response (its `extensions.code` and `field`). */
export function fromGraphQLErrors(errors: readonly GraphQLErrorLike[], status?: number): HeraldError {
  const first = errors[0];
  const code = typeof first?.extensions?.['code'] === 'string' ? (first.extensions['code'] as string) : 'INTERNAL_SERVER_ERROR';
  const field = typeof first?.extensions?.['field'] === 'string' ? (first.extensions['field'] as string) : undefined;
  const message = errors.map((e) => e.message).join('; ') || code;
  return new HeraldError(code, message, { status, field, errors });
}

export const isHeraldError = (value: unknown): value is HeraldError => value instanceof HeraldError;
