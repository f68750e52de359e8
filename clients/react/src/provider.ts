/**
 * `HeraldProvider`: gives the hooks below it one Herald client.
 *
 * - `client={…}`: an app-owned client; the provider never closes it.
 * - `options={…}`: the provider owns a client. It is created in an effect, so nothing is created (or
 *   connected) during server rendering, and it is closed when the provider unmounts. Under StrictMode the first
 *   client is created and closed before any hook used it (effects of the children ran first, with no client):
 *   the SDK connects only on the first `on()`, so the double mount opens no connection of its own, and each hook's
 *   own on/off/on in one tick runs one subscription (the SDK defers starting and stopping by a microtask).
 *
 * The client is made again only when `url`, `wsUrl`, `transport` or a fixed `token` change; `getToken`,
 * `onGap` and `onError` may be new functions on every render (the latest one is called).
 */
import { createElement, useEffect, useRef, useState, type ReactNode } from 'react';
import { createHeraldClient, type HeraldClient, type HeraldClientOptions } from '../../sdk/src/index.js';
import { HeraldContext } from './context.js';

export type HeraldProviderProps =
  | { readonly client: HeraldClient; readonly options?: undefined; readonly children?: ReactNode }
  | { readonly options: HeraldClientOptions; readonly client?: undefined; readonly children?: ReactNode };

/**
 * @example
 * <HeraldProvider options={{ url: `${location.origin}/graphql`, getToken: auth.token, storage: localStorage }}>
 *   <App />
 * </HeraldProvider>
 */
export function HeraldProvider(props: HeraldProviderProps): ReactNode {
  const external = props.client;
  const options = props.options;
  const [owned, setOwned] = useState<HeraldClient | null>(null);
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });

  useEffect(() => {
    if (external || !options) return;
    const callbacks = latest;
    const client = createHeraldClient({
      ...options,
      getToken: options.getToken ? () => (callbacks.current?.getToken ?? options.getToken!)() : undefined,
      onGap: (gap) => callbacks.current?.onGap?.(gap),
      onError: (error, key) => callbacks.current?.onError?.(error, key),
    });
    setOwned(client);
    return () => {
      client.close();
      setOwned((current) => (current === client ? null : current));
    };
    // Only what changes the connection itself makes a new client (see the header).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [external, options?.url, options?.wsUrl, options?.transport, options?.token]);

  return createElement(HeraldContext.Provider, { value: external ?? owned }, props.children);
}
