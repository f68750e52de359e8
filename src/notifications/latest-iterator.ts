/**
 * An async iterator that keeps only the newest value not yet taken: a state feed, where a consumer that falls
 * behind wants the current state, not every state it missed. Memory is one value whatever the producer does.
 */
export interface LatestIterator<T> extends AsyncIterableIterator<T> {
  /** Replaces any value not taken yet. Ignored once ended. */
  push(value: T): void;
  /** Ends the feed; with an error, the consumer's next pull rejects with it. */
  end(error?: unknown): void;
}

export function createLatestIterator<T>(onReturn: () => void): LatestIterator<T> {
  let pending: { value: T } | undefined;
  let waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  let done = false;
  let failure: { error: unknown } | undefined;
  let returned = false;
  const finish = () => {
    if (returned) return;
    returned = true;
    onReturn();
  };

  const it: LatestIterator<T> = {
    push(value) {
      if (done) return;
      if (waiting) {
        const { resolve } = waiting;
        waiting = undefined;
        resolve({ value, done: false });
      } else pending = { value };
    },
    end(error) {
      if (done) return;
      done = true;
      if (error !== undefined) failure = { error };
      finish();
      if (waiting) {
        const { resolve, reject } = waiting;
        waiting = undefined;
        if (failure) {
          const { error: e } = failure;
          failure = undefined;
          reject(e);
        } else resolve({ value: undefined, done: true });
      }
    },
    next() {
      if (pending) {
        const { value } = pending;
        pending = undefined;
        return Promise.resolve({ value, done: false });
      }
      if (failure) {
        const { error } = failure;
        failure = undefined;
        return Promise.reject(error);
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    return() {
      pending = undefined;
      it.end();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
