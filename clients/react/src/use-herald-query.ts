/**
 * `useHeraldQuery(document, variables, options)`: a typed query over the SDK's `client.query` (HTTP, a fresh
 * token each time), the runtime of the generated `useXxxQuery` hooks (generated/hooks.ts). It refetches when
 * the document or the variables' JSON change, keeps the previous data while a new page loads, drops answers
 * that arrive after a newer request was made, and can refetch when live events of some types arrive
 * (`refetchOnEvents`: a list that must stay current, like critical events). Nothing runs during server
 * rendering (`loading` is true there).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { isHeraldError, HeraldError, type EventTypeName, type TypedDocumentLike } from '../../sdk/src/index.js';
import { useHeraldClient } from './context.js';

export interface HeraldQueryOptions<TData> {
  /** `true`: do not run (e.g. until an id is known). @default false */
  readonly skip?: boolean;
  /** Also refetch every this many ms. @default none */
  readonly pollIntervalMs?: number;
  /** Refetch when a live event of these types (or any, `'*'`) reaches the viewer. @default none */
  readonly refetchOnEvents?: readonly EventTypeName[] | '*';
  /** Called with each successful result. */
  readonly onCompleted?: (data: TData) => void;
  /** Called with each failure (also in `error`). */
  readonly onError?: (error: HeraldError) => void;
}

export interface HeraldQueryResult<TData> {
  /** The latest result; kept while a refetch or a new page loads. */
  readonly data: TData | undefined;
  /** The latest failure, cleared by the next success. */
  readonly error: HeraldError | undefined;
  /** A request is in flight (or has not started yet). */
  readonly loading: boolean;
  /** Runs the query again with the current variables; resolves with its data (undefined when it failed or was superseded). */
  readonly refetch: () => Promise<TData | undefined>;
}

interface QueryState<TData> {
  readonly data: TData | undefined;
  readonly error: HeraldError | undefined;
  readonly loading: boolean;
}

const asHeraldError = (error: unknown) =>
  isHeraldError(error) ? error : new HeraldError('NETWORK_ERROR', (error as Error)?.message ?? String(error), { cause: error });

/**
 * @example
 * const { data, loading, error } = useHeraldQuery(EventsLogDocument, { first: 20, filter: { levels: ['CRITICAL'] } });
 */
export function useHeraldQuery<TData, TVariables extends Record<string, unknown>>(
  document: TypedDocumentLike<TData, TVariables>,
  variables: TVariables,
  options: HeraldQueryOptions<TData> = {},
): HeraldQueryResult<TData> {
  const client = useHeraldClient();
  const skip = options.skip ?? false;
  const query = String(document);
  const varsKey = JSON.stringify(variables ?? {});
  const [state, setState] = useState<QueryState<TData>>({ data: undefined, error: undefined, loading: !skip });
  const latest = useRef({ options, variables });
  useEffect(() => {
    latest.current = { options, variables };
  });
  const generation = useRef(0);

  const run = useCallback(async (): Promise<TData | undefined> => {
    if (!client || skip) return undefined;
    const mine = ++generation.current;
    setState((prev) => (prev.loading ? prev : { ...prev, loading: true }));
    try {
      const data = await client.query<TData, TVariables>(query, JSON.parse(varsKey) as TVariables);
      if (mine !== generation.current) return undefined;
      setState({ data, error: undefined, loading: false });
      latest.current.options.onCompleted?.(data);
      return data;
    } catch (caught) {
      if (mine !== generation.current) return undefined;
      const error = asHeraldError(caught);
      setState((prev) => ({ data: prev.data, error, loading: false }));
      latest.current.options.onError?.(error);
      return undefined;
    }
  }, [client, skip, query, varsKey]);

  useEffect(() => {
    void run();
    return () => {
      generation.current++; // an answer for these variables is stale from now on
    };
  }, [run]);

  const poll = options.pollIntervalMs;
  useEffect(() => {
    if (!poll || !client || skip) return;
    const timer = setInterval(() => void run(), poll);
    return () => clearInterval(timer);
  }, [poll, run, client, skip]);

  const refetchKey = options.refetchOnEvents === undefined ? '' : options.refetchOnEvents === '*' ? '*' : [...options.refetchOnEvents].sort().join(',');
  useEffect(() => {
    if (!refetchKey || !client || skip) return;
    // A burst of events refetches once: one request in flight, one more after it if events kept coming.
    let inFlight = false;
    let again = false;
    const refetch = () => {
      if (inFlight) return void (again = true);
      inFlight = true;
      void run().finally(() => {
        inFlight = false;
        if (again) {
          again = false;
          refetch();
        }
      });
    };
    try {
      return refetchKey === '*' ? client.on('*', refetch) : client.on(refetchKey.split(',') as EventTypeName[], refetch);
    } catch (error) {
      if (isHeraldError(error) && error.code === 'CLIENT_CLOSED') return;
      throw error;
    }
  }, [refetchKey, run, client, skip]);

  return { data: state.data, error: state.error, loading: skip ? false : state.loading || !client, refetch: run };
}
