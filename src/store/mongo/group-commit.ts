/**
 * Group commit for an asynchronous writer (the MongoDB event log's batch writer): one batch in flight, calls that
 * arrive meanwhile go together in the next one, and each call gets back its own items' outcomes. Serializing the
 * writes is what makes seq order commit order within one process (see mongo-event-store.ts).
 */

/** Per-item outcome: a failed item rejects the call it came from, not the whole batch. `R` has no `error` key. */
export type Outcome<R> = R | { readonly error: unknown };

export interface GroupCommit<I, R> {
  /** Queues one call's items; resolves with their results in order, or rejects with the first failed item's error. */
  push(items: readonly I[]): Promise<R[]>;
  /** Resolves once every queued call has been written (or has failed). */
  drain(): Promise<void>;
}

/**
 * Serializes writes: one batch in flight; calls arriving meanwhile wait and go together in the next
 * batch (whole calls, up to `maxBatch` items; a larger call is written alone, in chunks). A lone call
 * starts at the end of the current microtask queue, without a timer.
 */
export function createGroupCommit<I, R extends object>(write: (items: readonly I[]) => Promise<Outcome<R>[]>, maxBatch: number): GroupCommit<I, R> {
  interface Call {
    readonly items: readonly I[];
    resolve(results: R[]): void;
    reject(error: unknown): void;
  }
  const waiting: Call[] = [];
  let running: Promise<void> | undefined;

  const settle = (call: Call, outcomes: readonly Outcome<R>[]) => {
    const failed = outcomes.find((o): o is { error: unknown } => 'error' in o);
    if (failed) call.reject(failed.error);
    else call.resolve(outcomes as R[]);
  };

  const run = async () => {
    while (waiting.length > 0) {
      let take = 1;
      let size = waiting[0]!.items.length;
      while (take < waiting.length && size + waiting[take]!.items.length <= maxBatch) size += waiting[take++]!.items.length;
      const group = waiting.splice(0, take);
      const items = group.flatMap((call) => call.items);
      const outcomes: Outcome<R>[] = [];
      try {
        for (let i = 0; i < items.length; i += maxBatch) outcomes.push(...(await write(items.slice(i, i + maxBatch))));
      } catch (error) {
        for (const call of group) call.reject(error);
        continue;
      }
      let offset = 0;
      for (const call of group) {
        settle(call, outcomes.slice(offset, offset + call.items.length));
        offset += call.items.length;
      }
    }
    running = undefined;
  };

  return {
    push(items: readonly I[]): Promise<R[]> {
      return new Promise((resolve, reject) => {
        waiting.push({ items, resolve, reject });
        running ??= Promise.resolve().then(run);
      });
    },
    async drain() {
      while (running) await running;
    },
  };
}
