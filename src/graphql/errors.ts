/**
 * The one place where domain errors become GraphQL errors: AppErrors keep their message and
 * carry `extensions.code` and `extensions.http.status`; anything else is logged once and masked.
 */
import { GraphQLError } from 'graphql';
import { createGraphQLError, type MaskError } from 'graphql-yoga';
import { isAppError, type AppError } from '../errors.js';
import type { Logger } from '../log.js';

export function toGraphQLError(error: AppError, path?: ReadonlyArray<string | number>): GraphQLError {
  return createGraphQLError(error.message, {
    path,
    extensions: { code: error.code, http: { status: error.status }, ...(error.details ?? {}) },
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

export function createMaskError(logger: Logger): MaskError {
  return (error, message) => {
    const app = appErrorOf(error);
    if (app) {
      return toGraphQLError(app, error instanceof GraphQLError ? error.path : undefined);
    }
    if (error instanceof GraphQLError && !error.originalError) {
      return error; // parse/validation errors: already safe and already carry their codes
    }
    if (error instanceof GraphQLError && error.originalError instanceof GraphQLError) {
      return error.originalError;
    }
    logger.error({ err: error instanceof GraphQLError ? (error.originalError ?? error) : error }, 'unexpected error in GraphQL operation');
    return createGraphQLError(message, {
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: 'INTERNAL_SERVER_ERROR', http: { status: 500 } },
    });
  };
}

/** Drops the internal `extensions.http` from a result's errors (Yoga does this for HTTP; graphql-ws needs it too). */
export function withoutHttpExtensions<T extends { errors?: ReadonlyArray<unknown> }>(result: T): T {
  if (!result.errors?.length) return result;
  return {
    ...result,
    errors: result.errors.map((error) => {
      const json = error instanceof GraphQLError ? error.toJSON() : (error as { extensions?: Record<string, unknown> });
      if (!json.extensions || !('http' in json.extensions)) return json;
      const { http: _http, ...extensions } = json.extensions;
      return { ...json, extensions };
    }),
  };
}
