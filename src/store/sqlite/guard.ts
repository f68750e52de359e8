import { StoreError } from '../../errors.js';

/** Runs a synchronous better-sqlite3 call; a failure becomes a StoreError (503) with the driver error as `cause`. */
export function guarded<T>(what: string, fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (cause) {
    return Promise.reject(new StoreError(`SQLite ${what} failed`, { cause }));
  }
}
