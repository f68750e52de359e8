/**
 * Coalesces writes: items pushed while a write is in flight (or within the same tick) are written together in
 * the next one, so recording 2,000 attempt results a second costs a few dozen store round trips, not 2,000.
 * Each push resolves when its item is written, or rejects with the write's error.
 */
export interface Batcher<T> {
  push(item: T): Promise<void>;
  /** Resolves when everything pushed so far has been written (or has failed). */
  drain(): Promise<void>;
}

/**
 * @param write writes one batch; store-agnostic.
 * @param maxBatch items per write at most. @default 500
 */
export function createBatcher<T>(write: (items: readonly T[]) => Promise<void>, maxBatch = 500): Batcher<T> {
  let waiting: Array<{ item: T; resolve: () => void; reject: (error: unknown) => void }> = [];
  let running: Promise<void> | undefined;

  const run = async () => {
    while (waiting.length) {
      const batch = waiting.slice(0, maxBatch);
      waiting = waiting.slice(batch.length);
      try {
        await write(batch.map((w) => w.item));
        for (const w of batch) w.resolve();
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    running = undefined;
  };

  return {
    push(item) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        running ??= new Promise<void>((r) => setImmediate(r)).then(run);
      });
    },
    async drain() {
      while (running) await running;
    },
  };
}
