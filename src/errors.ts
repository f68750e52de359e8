/**
 * Typed errors of the domain. Each carries a stable `code` and the HTTP status it maps to;
 * the GraphQL / HTTP boundary (src/graphql/errors.ts) turns them into GraphQL errors with
 * `extensions.code` and `extensions.http.status`. Anything that is not an AppError is an
 * unexpected failure: it is logged once and masked at the boundary.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_INVALID'
  | 'TOKEN_REVOKED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'QUERY_TOO_COMPLEX'
  | 'REQUEST_TOO_LARGE'
  | 'BAD_REQUEST'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'TOO_MANY_SUBSCRIPTIONS'
  | 'TOO_MANY_CONNECTIONS'
  | 'RATE_LIMITED'
  | 'CURSOR_UNKNOWN'
  | 'CURSOR_EXPIRED'
  | 'UNSAFE_URL'
  | 'STORE_UNAVAILABLE'
  | 'CONFIG_INVALID';

export interface AppErrorOptions {
  /** The error this one wraps. Never shown to clients. */
  cause?: unknown;
  /** Safe, structured details shown to clients (e.g. `{ field: 'data.orderId' }`). */
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, status: number, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = options.details;
  }
}

/** Input that does not satisfy the schema or the catalogue. HTTP 400. */
export class ValidationError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('BAD_USER_INPUT', 400, message, options);
  }
}

export type AuthFailure = 'UNAUTHENTICATED' | 'TOKEN_EXPIRED' | 'TOKEN_INVALID' | 'TOKEN_REVOKED';

/** Missing, malformed or expired credentials. HTTP 401, WebSocket close 4401. */
export class AuthError extends AppError {
  constructor(code: AuthFailure, message: string, options?: AppErrorOptions) {
    super(code, 401, message, options);
  }
}

/** Authenticated, but not allowed to do or see this. HTTP 403, WebSocket close 4403. */
export class ForbiddenError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('FORBIDDEN', 403, message, options);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('NOT_FOUND', 404, message, options);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('CONFLICT', 409, message, options);
  }
}

/** A request the transport cannot read: malformed (400), wrong method (405), wrong media type (415), too large (413). */
export class RequestError extends AppError {
  constructor(code: 'BAD_REQUEST' | 'METHOD_NOT_ALLOWED' | 'UNSUPPORTED_MEDIA_TYPE' | 'REQUEST_TOO_LARGE', status: 400 | 405 | 413 | 415, message: string, options?: AppErrorOptions) {
    super(code, status, message, options);
  }
}

/** A document or request over one of the documented limits (depth, aliases, tokens, cost, rows). HTTP 400. */
export class LimitError extends AppError {
  constructor(code: 'QUERY_TOO_COMPLEX' | 'TOO_MANY_SUBSCRIPTIONS', message: string, options?: AppErrorOptions) {
    super(code, 400, message, options);
  }
}

/** Over a rate limit (HTTP 429); `retryAfterSeconds` says when to try again (also the `Retry-After` header). */
export class RateLimitError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterMs: number, options?: AppErrorOptions) {
    const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super('RATE_LIMITED', 429, message, { ...options, details: { ...options?.details, retryAfterSeconds } });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Too many live connections overall (503) or for one user (429). */
export class ConnectionLimitError extends AppError {
  constructor(status: 429 | 503, message: string, options?: AppErrorOptions) {
    super('TOO_MANY_CONNECTIONS', status, message, options);
  }
}

/**
 * A resume cursor the log cannot honour: beyond its end or from another log (`CURSOR_UNKNOWN`, 409),
 * or older than retention, so events after it are gone (`CURSOR_EXPIRED`, 410). Either way the client
 * must resynchronise (reload its state, then subscribe without a cursor).
 */
export class CursorError extends AppError {
  constructor(code: 'CURSOR_UNKNOWN' | 'CURSOR_EXPIRED', message: string, options?: AppErrorOptions) {
    super(code, code === 'CURSOR_UNKNOWN' ? 409 : 410, message, options);
  }
}

/** A URL refused by the SSRF guard (scheme, or a host resolving to a non-public address). */
export class UnsafeUrlError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('UNSAFE_URL', 400, message, options);
  }
}

/** The event store failed or is unreachable. HTTP 503; the cause is logged, never shown. */
export class StoreError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('STORE_UNAVAILABLE', 503, message, options);
  }
}

/** Configuration that cannot be used; thrown at start-up only. */
export class ConfigError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('CONFIG_INVALID', 500, message, options);
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;
