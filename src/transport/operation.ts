/**
 * One GraphQL operation of a live transport (a graphql-ws `subscribe` message, an SSE request), run through
 * Yoga's envelop so parsing limits, validation, context and error masking are the same as over HTTP.
 * The outcome says what the transport frames: one result, a live feed with its group (push: the group
 * renders each event once, the transport splices its own head), or, for a subscription not backed by a
 * feed, a pull iterator of results. Both transports share this; they keep only framing.
 */
import { getOperationAST, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { VerifiedViewer } from '../auth/tokens.js';
import type { LiveFeed } from '../events/stream.js';
import type { GraphQLContext, StreamState } from '../graphql/context.js';
import type { LiveGroup, LiveGroups } from '../graphql/live-groups.js';
import type { Logger } from '../log.js';
import { isAppError } from '../errors.js';
import { toGraphQLError } from '../graphql/errors.js';
import type { HttpHandler } from './http.js';

/** What the GraphQL context factory receives for an operation of a live transport (already authenticated). */
export interface LiveExtra {
  readonly viewer: VerifiedViewer;
  readonly transport: 'websocket' | 'sse';
  /** `Last-Event-ID` of a reconnecting EventSource. */
  readonly lastEventId?: string;
  /** For log lines about the operation: the request (upgrade or SSE) and session it belongs to. */
  readonly requestId?: string;
  readonly sessionId?: number;
}

/** The ids a log line about an operation carries. */
export const logIdsOf = (extra: Pick<LiveExtra, 'requestId' | 'sessionId'> | undefined): Record<string, unknown> =>
  extra ? { requestId: extra.requestId, sessionId: extra.sessionId } : {};

export interface OperationParams {
  readonly query: string;
  readonly operationName?: string | null;
  readonly variables?: Record<string, unknown> | null;
  readonly extensions?: Record<string, unknown> | null;
}

export type OperationOutcome =
  /** Refused before execution (syntax, validation, a document limit) or failed unexpectedly. */
  | { readonly kind: 'refused'; readonly errors: readonly GraphQLError[] }
  /** A query's or mutation's result, or a subscription's that failed at its root (`errors` set, e.g. CURSOR_UNKNOWN). */
  | { readonly kind: 'result'; readonly result: ExecutionResult }
  /** A live subscription: attach a sink to `feed`; `group.leave()` when it ends. */
  | { readonly kind: 'live'; readonly feed: LiveFeed; readonly group: LiveGroup }
  /** A subscription without a feed (generic execution): one result per event; `state.cursor` names it. */
  | { readonly kind: 'stream'; readonly results: AsyncIterableIterator<ExecutionResult>; readonly state: StreamState };

export interface RunOptions {
  /** Whether mutations may run (not over GET, where a link could trigger them). @default true */
  readonly mutations?: boolean;
}

export interface OperationRunnerOptions {
  readonly yoga: HttpHandler;
  readonly groups: LiveGroups;
  readonly logger: Logger;
}

export interface OperationRunner {
  /** Never throws: failures come back as `refused` with masked errors. */
  run(extra: LiveExtra, params: OperationParams, options?: RunOptions): Promise<OperationOutcome>;
  /** Releases an outcome nobody will consume (the client left during setup). */
  dispose(outcome: OperationOutcome): void;
  /** Known errors keep their code; anything else is logged once and masked. */
  /** The error as a client may see it; an unexpected one is logged once (with `ids`) and masked. */
  clientError(error: unknown, ids?: Record<string, unknown>): GraphQLError;
}

const isAsyncIterable = (value: unknown): value is AsyncIterableIterator<ExecutionResult> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

export function createOperationRunner(options: OperationRunnerOptions): OperationRunner {
  const { yoga, groups, logger } = options;

  function clientError(error: unknown, ids?: Record<string, unknown>): GraphQLError {
    if (isAppError(error)) return toGraphQLError(error);
    if (error instanceof GraphQLError) return error;
    logger.error({ ...ids, err: error }, 'unexpected error in a live operation');
    return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  }

  const refused = (errors: readonly GraphQLError[]): OperationOutcome => ({ kind: 'refused', errors });

  async function run(extra: LiveExtra, params: OperationParams, runOptions: RunOptions = {}): Promise<OperationOutcome> {
    try {
      const enveloped = yoga.getEnveloped({ extra, params } as never);
      let document;
      try {
        document = enveloped.parse(params.query);
      } catch (error) {
        return refused([clientError(error, logIdsOf(extra))]);
      }
      const errors = enveloped.validate(enveloped.schema, document);
      if (errors.length) return refused(errors);
      const operation = getOperationAST(document, params.operationName);
      if (!operation) return refused([new GraphQLError('Unable to identify the operation to run', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } })]);
      if (operation.operation === 'mutation' && runOptions.mutations === false) {
        return refused([new GraphQLError('Can only perform a mutation operation from a POST request', { extensions: { code: 'METHOD_NOT_ALLOWED', http: { status: 405 } } })]);
      }
      const args: ExecutionArgs = {
        schema: enveloped.schema,
        document,
        operationName: params.operationName,
        variableValues: params.variables,
        contextValue: await enveloped.contextFactory(),
      };
      const result = operation.operation === 'subscription' ? await enveloped.subscribe(args) : await enveloped.execute(args);
      if (!isAsyncIterable(result)) return { kind: 'result', result: result as ExecutionResult };
      const state = (args.contextValue as GraphQLContext).stream ?? {};
      if (state.feed) {
        // Push: the feed is consumed directly; graphql-js's mapped iterator, the context and the arguments
        // are left to the collector (a live subscription keeps only what it uses).
        const feed = state.feed;
        const group = groups.join(state.args ?? args, extra.viewer.role);
        state.feed = state.args = undefined;
        return { kind: 'live', feed, group };
      }
      return { kind: 'stream', results: result, state };
    } catch (error) {
      return refused([clientError(error, logIdsOf(extra))]);
    }
  }

  function dispose(outcome: OperationOutcome): void {
    if (outcome.kind === 'live') {
      void outcome.feed.return?.();
      outcome.group.leave();
    } else if (outcome.kind === 'stream') void outcome.results.return?.();
  }

  return { run, dispose, clientError };
}
