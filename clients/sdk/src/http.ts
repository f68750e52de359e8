/** One GraphQL request over HTTP POST (queries, mutations): the answer's `data`, or a typed `HeraldError`. */
import { fromGraphQLErrors, HeraldError, type GraphQLErrorLike } from './errors.js';
import { newAbortController, timers, type FetchLike } from './runtime.js';

export interface GraphQLRequest {
  readonly query: string;
  readonly variables?: Record<string, unknown> | undefined;
  readonly operationName?: string | undefined;
}

export interface PostOptions {
  readonly url: string;
  readonly token: string | undefined;
  readonly fetch: FetchLike;
  /** Abort the request after this long (a `NETWORK_ERROR`). */
  readonly timeoutMs: number;
}

/** Sends `request`; resolves with `data` when the response has no errors, throws `HeraldError` otherwise. */
export async function postGraphQL<T>(request: GraphQLRequest, options: PostOptions): Promise<T> {
  const controller = newAbortController();
  const timer = timers.set(() => controller.abort(), options.timeoutMs);
  let status: number;
  let text: string;
  try {
    const response = await options.fetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: JSON.stringify(request),
      signal: controller.signal,
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new HeraldError('NETWORK_ERROR', `Request to ${options.url} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  } finally {
    timers.clear(timer);
  }
  let body: { data?: T | null; errors?: GraphQLErrorLike[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch (error) {
    // A proxy's HTML error page, a truncated body: 5xx stays retryable through `status`.
    throw new HeraldError(status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_RESPONSE', `HTTP ${status}: not a GraphQL response`, { status, cause: error });
  }
  if (body.errors?.length) throw fromGraphQLErrors(body.errors, status);
  if (status >= 400 || body.data == null) throw new HeraldError(status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_RESPONSE', `HTTP ${status} without data`, { status });
  return body.data;
}
