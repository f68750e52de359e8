/**
 * The one place where domain errors become GraphQL errors: AppErrors keep their message and
 * carry `extensions.code` and `extensions.http.status`; anything else is logged once and masked.
 */
import { GraphQLError } from 'graphql';
import { createGraphQLError, type MaskError } from 'graphql-yoga';
import { isAppError, RateLimitError, type AppError } from '../errors.js';
import type { Logger } from '../log.js';

export function toGraphQLError(error: AppError, path?: ReadonlyArray<string | number>): GraphQLError {
  const headers = error instanceof RateLimitError ? { 'Retry-After': String(error.retryAfterSeconds) } : undefined;
  return createGraphQLError(error.message, {
    path,
    extensions: { code: error.code, http: { status: error.status, ...(headers ? { headers } : {}) }, ...(error.details ?? {}) },
  });
}

/** Finds an AppError in a GraphQLError's chain of `originalError`s. */
function appErrorOf(error: unknown): AppError | undefined {
  let current: unknown = error;
  for (let i = 0; i < 5 && current; i++) {
    if (isAppError(current)) return current;
    current = current instanceof GraphQLError ? current.originalError : undefined;
  }
  return undefined;
}

/**
 * @param logIdsOf the ids (request, session) a log line about this error carries, when the transport recorded them
 * (transport/http.ts `useErrorLogIds`). @default none
 */
export function createMaskError(logger: Logger, logIdsOf?: (error: unknown) => Record<string, unknown> | undefined): MaskError {
  return (error, message) => {
    const app = appErrorOf(error);
    if (app) {
      return toGraphQLError(app, error instanceof GraphQLError ? error.path : undefined);
    }
    if (error instanceof GraphQLError && !error.path && /^Variable "\$/.test(error.message)) {
      return variableError(error);
    }
    if (error instanceof GraphQLError && !error.originalError) {
      // Parse/validation errors: safe, and coded by ./limits.ts; their 400 holds for every Accept header.
      const http = (error.extensions as { http?: { status?: number; spec?: boolean } }).http;
      if (http?.spec) Object.assign(error.extensions, { http: { ...http, spec: false } });
      return error;
    }
    if (error instanceof GraphQLError && error.originalError instanceof GraphQLError) {
      return error.originalError;
    }
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    logger.error({ ...logIdsOf?.(original), err: original }, 'unexpected error in GraphQL operation');
    return createGraphQLError(message, {
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: 'INTERNAL_SERVER_ERROR', http: { status: 500 } },
    });
  };
}

/**
 * Variable coercion (`Variable "$n" got invalid value "abc"; Int cannot represent…`): the client's input,
 * so BAD_USER_INPUT with 400 and the variable's name in `extensions.field` (`$n`, `$input.data`).
 */
function variableError(error: GraphQLError): GraphQLError {
  const name = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)"/.exec(error.message)?.[1];
  const at = / at "([^"]+)"/.exec(error.message)?.[1];
  const field = name === undefined ? undefined : at ? `$${at.replace(/^\w+/, name)}` : `$${name}`;
  return createGraphQLError(error.message, {
    nodes: error.nodes,
    extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}), http: { status: 400, spec: false } },
  });
}

/**
 * Yoga's own log lines. Yoga reports every error of an operation it executes; the ones a client caused
 * (they carry a 4xx `extensions.http.status` or a code) are routine and logged at debug, without the
 * document; unexpected ones are logged once, at error, by the mask above.
 */
export function createYogaLogger(logger: Logger) {
  const text = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
  const isClientError = (args: unknown[]) =>
    args.some((a) => {
      const app = appErrorOf(a);
      if (app) return app.status < 500;
      const ext = a instanceof GraphQLError ? (a.extensions as { code?: unknown; http?: { status?: number } }) : undefined;
      return ext !== undefined && (ext.code !== undefined || (ext.http?.status ?? 500) < 500);
    });
  const isMasked = (args: unknown[]) => args.length === 1 && args[0] instanceof GraphQLError && args[0].originalError !== undefined;
  return {
    debug: (...args: unknown[]) => logger.debug(text(args)),
    info: (...args: unknown[]) => logger.info(text(args)),
    warn: (...args: unknown[]) => logger.warn(text(args)),
    // An execution error Yoga reports after masking it was logged by the mask already, with the request's ids.
    error: (...args: unknown[]) => (isClientError(args) || isMasked(args) ? logger.debug(text(args)) : logger.error(text(args))),
  };
}
