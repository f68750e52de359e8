/**
 * A bounded async queue exposed as an AsyncIterableIterator: producers push, one consumer pulls.
 * Overflow fails the iterator (the consumer is too slow) instead of growing memory without bound.
 */
export interface PushIterator<T> extends AsyncIterableIterator<T> {
  push(value: T): void;
  /** Ends the stream after the queued values; with an error, the consumer's next pull rejects. */
  end(error?: unknown): void;
  readonly queued: number;
  /** Resolves once the consumer has taken every queued value (or the iterator ended). */
  drained(): Promise<void>;
}

export function createPushIterator<T>(options: { limit: number; onOverflow: () => unknown; onReturn?: () => void }): PushIterator<T> {
  const queue: T[] = [];
  let head = 0;
  let waiting: ((r: IteratorResult<T>) => void) | null = null;
  let rejectWaiting: ((e: unknown) => void) | null = null;
  let done = false;
  let failure: unknown;
  let returned = false;
  let onDrained: Array<() => void> | undefined;
  const wake = () => {
    const waiting = onDrained;
    onDrained = undefined;
    if (waiting) for (const resolve of waiting) resolve();
  };

  const finish = () => {
    wake();
    if (returned) return;
    returned = true;
    options.onReturn?.();
  };

  const it: PushIterator<T> = {
    get queued() {
      return queue.length - head;
    },
    drained() {
      if (done || queue.length - head === 0) return Promise.resolve();
      return new Promise((resolve) => (onDrained ??= []).push(resolve));
    },
    push(value) {
      if (done) return;
      if (waiting) {
        const resolve = waiting;
        waiting = rejectWaiting = null;
        resolve({ value, done: false });
        return;
      }
      if (queue.length - head >= options.limit) {
        it.end(options.onOverflow());
        return;
      }
      queue.push(value);
    },
    end(error) {
      if (done) return;
      done = true;
      failure = error;
      if (waiting) {
        const resolve = waiting;
        const reject = rejectWaiting!;
        waiting = rejectWaiting = null;
        if (error !== undefined) reject(error);
        else resolve({ value: undefined, done: true });
        finish();
      }
    },
    next() {
      if (head < queue.length) {
        const value = queue[head]!;
        queue[head++] = undefined as T;
        if (head > 1024 && head * 2 > queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        if (head === queue.length) wake();
        return Promise.resolve({ value, done: false });
      }
      if (done) {
        finish();
        if (failure !== undefined) {
          const error = failure;
          failure = undefined;
          return Promise.reject(error);
        }
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve, reject) => {
        waiting = resolve;
        rejectWaiting = reject;
      });
    },
    return() {
      done = true;
      queue.length = head = 0;
      if (waiting) {
        waiting({ value: undefined, done: true });
        waiting = rejectWaiting = null;
      }
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error) {
      it.end(error);
      return it.return!();
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
