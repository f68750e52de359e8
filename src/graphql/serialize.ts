/**
 * The one serializer of results sent to live clients (WebSocket `next`/`error` payloads, SSE `data:` lines):
 * JSON, with the internal `extensions.http` (status hints for the HTTP boundary) removed from errors.
 */
import { GraphQLError, type ExecutionResult } from 'graphql';

function errorJson(error: unknown): unknown {
  const json = error instanceof GraphQLError ? error.toJSON() : (error as { extensions?: Record<string, unknown> });
  if (!json.extensions || !('http' in json.extensions)) return json;
  const { http: _http, ...extensions } = json.extensions;
  return { ...json, extensions: Object.keys(extensions).length ? extensions : undefined };
}

export function serializeResult(result: ExecutionResult): string {
  if (!result.errors?.length) return JSON.stringify(result);
  return JSON.stringify({ ...result, errors: result.errors.map(errorJson) });
}

export function serializeErrors(errors: readonly unknown[]): string {
  return JSON.stringify(errors.map(errorJson));
}
