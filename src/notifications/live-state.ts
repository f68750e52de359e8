/**
 * Live read state: every watcher (a `notificationStateChanged` subscription) of one reader gets the reader's state
 * once at start and after every change. A change made on this instance is pushed at once; changes made by other
 * instances sharing the store are found by polling the store's `changedSince` (only while someone here watches),
 * as revocations are. Per reader, one computation runs at a time and a change arriving during it runs another
 * after it; a state whose `updatedAt` is older than one already pushed is dropped (the writer makes `updatedAt`
 * strictly increasing per reader), so the last state pushed is never older than the last change. A watcher never
 * gets the same state twice in a row.
 */
import type { Viewer } from '../events/model.js';
import { createLatestIterator } from './latest-iterator.js';
import type { NotificationState } from './model.js';
import type { ReaderKey, ReadStateStore } from './read-state-store.js';
import { readerKeyOf } from './read-state-store.js';

export interface LiveStateOptions {
  readonly store: Pick<ReadStateStore, 'changedSince'>;
  /** The reader's current state. */
  readonly compute: (viewer: Viewer) => Promise<NotificationState>;
  /** How often other instances' changes are looked for; 0: never (a store only this instance uses). */
  readonly pollMs: number;
  readonly onError?: (error: unknown) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface LiveState {
  /** The reader's state now and after each change, until `return()`. */
  watch(viewer: Viewer): AsyncIterableIterator<NotificationState>;
  /** The reader's state changed here: push `state` (computed after the change) to its watchers, or compute it. */
  changed(viewer: Viewer, state?: NotificationState): void;
  /** Readers watched on this instance (tests, metrics). */
  readonly watched: number;
  stop(): void;
}

/** How far back each poll looks again, for writes that committed late or clocks a little apart. */
const POLL_OVERLAP_MS = 5_000;

interface Watcher {
  readonly feed: ReturnType<typeof createLatestIterator<NotificationState>>;
  /** The last state given, serialized, so an unchanged one is not given again; undefined before the first. */
  last?: string;
}

interface Reader {
  readonly viewer: Viewer;
  readonly watchers: Set<Watcher>;
  running: boolean;
  again: boolean;
  /** `updatedAt` of the last state computed (what the poll compares with). */
  seen: number | null;
}

export function createLiveState(options: LiveStateOptions): LiveState {
  const now = options.now ?? Date.now;
  const readers = new Map<ReaderKey, Reader>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let polledAt = now();
  let polling = false;

  function deliver(reader: Reader, state: NotificationState): void {
    if (reader.seen !== null && (state.updatedAt === null || state.updatedAt < reader.seen)) return;
    reader.seen = state.updatedAt;
    const json = JSON.stringify(state);
    for (const watcher of reader.watchers) {
      if (watcher.last === json) continue;
      watcher.last = json;
      watcher.feed.push(state);
    }
  }

  async function refresh(reader: Reader): Promise<void> {
    if (reader.running) {
      reader.again = true;
      return;
    }
    reader.running = true;
    try {
      do {
        reader.again = false;
        try {
          deliver(reader, await options.compute(reader.viewer));
        } catch (error) {
          options.onError?.(error);
          // A watcher still waiting for its first state is told; the others keep their last one.
          for (const watcher of reader.watchers) if (watcher.last === undefined) watcher.feed.end(error);
        }
      } while (reader.again && reader.watchers.size > 0);
    } finally {
      reader.running = false;
    }
  }

  async function poll(): Promise<void> {
    if (polling || readers.size === 0) return;
    polling = true;
    const started = now();
    try {
      for (const { key, updatedAt } of await options.store.changedSince(polledAt - POLL_OVERLAP_MS)) {
        const reader = readers.get(key);
        if (reader && (reader.seen === null || updatedAt > reader.seen)) void refresh(reader);
      }
      polledAt = started;
    } catch (error) {
      options.onError?.(error);
    } finally {
      polling = false;
    }
  }

  function ensurePolling() {
    if (options.pollMs > 0 && !timer) {
      polledAt = now();
      timer = setInterval(() => void poll(), options.pollMs);
      timer.unref?.();
    }
  }

  return {
    get watched() {
      return readers.size;
    },
    watch(viewer) {
      const key = readerKeyOf(viewer);
      let reader = readers.get(key);
      if (!reader) readers.set(key, (reader = { viewer: { userId: viewer.userId, role: viewer.role }, watchers: new Set(), running: false, again: false, seen: null }));
      const current = reader;
      const watcher: Watcher = {
        feed: createLatestIterator<NotificationState>(() => {
          current.watchers.delete(watcher);
          if (current.watchers.size === 0 && readers.get(key) === current) readers.delete(key);
          if (readers.size === 0 && timer) {
            clearInterval(timer);
            timer = undefined;
          }
        }),
      };
      current.watchers.add(watcher);
      ensurePolling();
      void refresh(current);
      return watcher.feed;
    },
    changed(viewer, state) {
      const reader = readers.get(readerKeyOf(viewer));
      if (!reader) return;
      // A computation under way may have read the store before this change: it runs again after.
      if (state && !reader.running) deliver(reader, state);
      else void refresh(reader);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      for (const reader of readers.values()) for (const watcher of reader.watchers) watcher.feed.end();
      readers.clear();
    },
  };
}
