/**
 * Where the client keeps the last cursor of each subscription, so a reloaded page or restarted process resumes
 * where it left. Either `{ get, set }` (sync or async) or anything localStorage-shaped (`getItem`/`setItem`).
 */

export interface CursorStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
}

/** `localStorage`, `sessionStorage`, or a stand-in with the same two methods. */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export type StorageOption = CursorStorage | WebStorageLike;

/** One `{ get, set }` over either shape; errors (quota, private mode) are swallowed: storage is best effort. */
export function toCursorStorage(storage: StorageOption, prefix: string): CursorStorage {
  const web = 'getItem' in storage ? storage : undefined;
  const plain = web ? undefined : (storage as CursorStorage);
  return {
    async get(key) {
      try {
        return (web ? web.getItem(prefix + key) : await plain!.get(prefix + key)) ?? undefined;
      } catch {
        return undefined;
      }
    },
    set(key, value) {
      try {
        const done = web ? web.setItem(prefix + key, value) : plain!.set(prefix + key, value);
        if (done && typeof (done as Promise<void>).catch === 'function') (done as Promise<void>).catch(() => {});
      } catch {
        // best effort
      }
    },
  };
}
