/**
 * The client a `HeraldProvider` hands to the hooks. `undefined` (the default) means no provider above: a
 * programming error the hooks report at once. `null` means a provider that has no client yet: during server
 * rendering, and in the first commit in the browser, before its effect created one. Hooks render their empty
 * state then, and subscribe when the client arrives.
 */
import { createContext, useContext } from 'react';
import type { HeraldClient } from '../../sdk/src/index.js';

export const HeraldContext = createContext<HeraldClient | null | undefined>(undefined);
HeraldContext.displayName = 'HeraldContext';

/**
 * The provider's client, or `null` while there is none (server rendering, first commit).
 * Throws when there is no `HeraldProvider` above.
 * @example const client = useHeraldClient(); if (client) void client.query(MyDocument, vars);
 */
export function useHeraldClient(): HeraldClient | null {
  const client = useContext(HeraldContext);
  if (client === undefined) throw new Error('@herald/react: wrap the tree in <HeraldProvider client={…}> or <HeraldProvider options={…}>');
  return client;
}
