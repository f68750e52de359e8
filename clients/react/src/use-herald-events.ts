/**
 * `useHeraldEvents(types, options)`: the live events of some types (or `'*'`), newest first, at most `limit`,
 * with the connection status. The SDK delivers each event once and in log order across reconnects; the hook
 * keeps that (it prepends, and ignores an id it already holds, so a remount that replays from `after` cannot
 * show one twice). The subscription follows the *set* of types: a new array with the same types each render
 * does not resubscribe.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { isHeraldError, type EventMap, type EventTypeName, type HeraldClientStatus, type HeraldEvent } from '../../sdk/src/index.js';
import { useHeraldClient } from './context.js';
import { useClientStatus } from './use-herald-status.js';

export interface UseHeraldEventsOptions<E> {
  /** How many events to keep (the newest). @default 50 */
  readonly limit?: number;
  /** Replay what was logged after this cursor first (otherwise: the stored cursor, or live). @default none */
  readonly after?: string;
  /** `false` subscribes to nothing (e.g. until the user signed in). @default true */
  readonly enabled?: boolean;
  /** Called once per event as it arrives (toasts, sounds): not during rendering, and never twice for an id. */
  readonly onEvent?: (event: E) => void;
}

export interface UseHeraldEventsResult<E> {
  /** Newest first, at most `limit`. */
  readonly events: readonly E[];
  /** The newest event, if any. */
  readonly latest: E | undefined;
  readonly status: HeraldClientStatus;
  /** Forgets the events kept so far (the subscription goes on). */
  readonly clear: () => void;
}

/** Default `limit`. */
export const DEFAULT_EVENTS_LIMIT = 50;

const keyOf = (types: string | readonly string[]) => (types === '*' ? '*' : [...new Set(typeof types === 'string' ? [types] : types)].sort().join(','));

/**
 * @example
 * const { events, status } = useHeraldEvents(['ORDER_CONFIRMED', 'DELIVERY_ARRIVED'], { limit: 20 });
 * return <ul>{events.map((e) => <li key={e.id}>{e.type === 'ORDER_CONFIRMED' ? `ready in ${e.preparationMinutes} min` : 'at the door'}</li>)}</ul>;
 */
export function useHeraldEvents<T extends EventTypeName>(types: T | readonly T[], options?: UseHeraldEventsOptions<EventMap[T]>): UseHeraldEventsResult<EventMap[T]>;
export function useHeraldEvents(types: '*', options?: UseHeraldEventsOptions<HeraldEvent>): UseHeraldEventsResult<HeraldEvent>;
export function useHeraldEvents(types: string | readonly string[], options: UseHeraldEventsOptions<HeraldEvent> = {}): UseHeraldEventsResult<HeraldEvent> {
  const client = useHeraldClient();
  const status = useClientStatus(client);
  const key = keyOf(types);
  const enabled = options.enabled ?? true;
  const [state, setState] = useState<{ key: string; events: readonly HeraldEvent[] }>({ key, events: [] });
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });

  useEffect(() => {
    if (!client || !enabled) return;
    const seen = new Set<string>();
    const handler = (event: HeraldEvent) => {
      if (seen.has(event.id)) return;
      seen.add(event.id);
      const limit = Math.max(1, latest.current.limit ?? DEFAULT_EVENTS_LIMIT);
      setState((prev) => {
        const kept = prev.key === key ? prev.events : [];
        if (kept.some((e) => e.id === event.id)) return prev;
        return { key, events: [event, ...kept].slice(0, limit) };
      });
      latest.current.onEvent?.(event);
      if (seen.size > 10_000) seen.clear(); // the SDK dedupes too; this only guards the hook's own callbacks
    };
    const list = key === '*' ? '*' : (key.split(',') as EventTypeName[]);
    let off: (() => void) | undefined;
    try {
      off = list === '*' ? client.on('*', handler, { after: options.after }) : client.on(list, handler as (e: EventMap[EventTypeName]) => void, { after: options.after });
    } catch (error) {
      // A client closed under us (its provider is being replaced): the next client subscribes.
      if (isHeraldError(error) && error.code === 'CLIENT_CLOSED') return;
      throw error;
    }
    return off;
    // `after` is read when (re)subscribing only.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key, enabled]);

  const clear = useCallback(() => setState({ key, events: [] }), [key]);
  const events = state.key === key ? state.events : [];
  return { events, latest: events[0], status, clear };
}
