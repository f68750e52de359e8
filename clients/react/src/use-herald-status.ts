/**
 * `useHeraldStatus()`: the client's connection status, re-rendering on every change (state, transport,
 * fallback, a new cursor). One `onStatus` listener per client serves every component (a WeakMap of stores),
 * and the snapshot only changes when the client reports a change, as `useSyncExternalStore` requires.
 */
import { useSyncExternalStore } from 'react';
import type { HeraldClient, HeraldClientStatus } from '../../sdk/src/index.js';
import { useHeraldClient } from './context.js';

/** What the hooks report while there is no client (server rendering, the first commit). */
export const IDLE_STATUS: HeraldClientStatus = Object.freeze({
  state: 'disconnected',
  transport: null,
  fallback: false,
  subscriptions: [],
  lastCursor: null,
  reconnectAttempts: 0,
  lastClose: null,
  error: null,
});

interface StatusStore {
  snapshot: HeraldClientStatus;
  readonly subscribe: (onChange: () => void) => () => void;
}

const stores = new WeakMap<HeraldClient, StatusStore>();

function storeOf(client: HeraldClient): StatusStore {
  let store = stores.get(client);
  if (store) return store;
  const callbacks = new Set<() => void>();
  const created: StatusStore = {
    snapshot: client.status(),
    subscribe(onChange) {
      callbacks.add(onChange);
      return () => callbacks.delete(onChange);
    },
  };
  client.onStatus((status) => {
    created.snapshot = status;
    for (const callback of [...callbacks]) callback();
  });
  stores.set(client, created);
  store = created;
  return store;
}

const noop = () => () => {};
const idle = () => IDLE_STATUS;

/** The status of a given client (or `IDLE_STATUS` for `null`), for hooks that already hold the client. */
export function useClientStatus(client: HeraldClient | null): HeraldClientStatus {
  const store = client ? storeOf(client) : undefined;
  return useSyncExternalStore(store ? store.subscribe : noop, store ? () => store.snapshot : idle, idle);
}

/**
 * @example
 * const { state, transport, fallback } = useHeraldStatus();
 * return <span role="status">{state === 'connected' ? (fallback ? 'live (SSE)' : 'live') : state}</span>;
 */
export function useHeraldStatus(): HeraldClientStatus {
  return useClientStatus(useHeraldClient());
}
