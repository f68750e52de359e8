/**
 * The one shape of an error answered outside GraphQL execution (authentication, a malformed or oversized request,
 * a connection limit, `/metrics`): `{ "errors": [{ "message", "extensions": { "code", ...details } }] }`, with the
 * HTTP status, `WWW-Authenticate: Bearer` on 401 and `Retry-After` when the error says when to retry (429).
 */
import type { ServerResponse } from 'node:http';

export interface ErrorAnswer {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** Safe, structured details shown to clients (an AppError's `details`). */
  readonly details?: Record<string, unknown>;
}

export const errorBody = (error: ErrorAnswer): string =>
  JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.code, ...(error.details ?? {}) } }] });

export function errorHeaders(error: ErrorAnswer, body: string, extra: Record<string, string> = {}): Record<string, string | number> {
  return {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(error.status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
    ...(typeof error.details?.['retryAfterSeconds'] === 'number' ? { 'retry-after': String(error.details['retryAfterSeconds']) } : {}),
    ...extra,
  };
}

/** Answers `error` on a Node response. */
export function writeError(res: ServerResponse, error: ErrorAnswer, extra: Record<string, string> = {}): void {
  const body = errorBody(error);
  res.writeHead(error.status, errorHeaders(error, body, extra)).end(body);
}
