/**
 * Records failures into `event_errors` without ever slowing or failing the code that reports them:
 * errors reported in the same event-loop turn are written together, free text is capped, and a backlog
 * beyond `maxPending` is dropped (and reported) rather than buffered without bound.
 */
import type { ErrorInput, ErrorStore } from './error-store.js';

/** A failure as reported; `at` defaults to now. */
export type ErrorReport = Omit<ErrorInput, 'at'> & { readonly at?: number };

export interface ErrorRecorderOptions {
  readonly store: ErrorStore;
  /** Told when a write fails or errors are dropped; never throws back. @default ignore */
  readonly onFailure?: (error: unknown, dropped: number) => void;
  /** Errors waiting to be written beyond which new reports are dropped. @default 1000 */
  readonly maxPending?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface ErrorRecorder {
  /** Queues one failure for `event_errors`. Synchronous, never throws. */
  record(report: ErrorReport): void;
  /** Resolves once everything queued so far is written (or has failed). */
  flush(): Promise<void>;
}

const MAX_MESSAGE = 1000;
const MAX_SHORT = 200;
const MAX_DETAILS_JSON = 4096;

const cap = (value: string | null | undefined, max: number): string | null =>
  value === null || value === undefined ? null : value.length > max ? `${value.slice(0, max - 1)}…` : value;

function capDetails(details: ErrorInput['details']): Record<string, unknown> | null {
  if (!details) return null;
  try {
    const json = JSON.stringify(details);
    return json.length <= MAX_DETAILS_JSON ? (JSON.parse(json) as Record<string, unknown>) : { truncated: true, size: json.length };
  } catch {
    return { unserializable: true };
  }
}

/** The report as stored: lengths capped, details made plain JSON. */
export function normalizeReport(report: ErrorReport, now: number): ErrorInput {
  return {
    kind: report.kind,
    source: cap(report.source, MAX_SHORT),
    message: cap(report.message, MAX_MESSAGE) ?? '',
    field: cap(report.field, MAX_SHORT),
    eventId: cap(report.eventId, MAX_SHORT),
    endpointId: cap(report.endpointId, MAX_SHORT),
    details: capDetails(report.details),
    at: report.at ?? now,
  };
}

export function createErrorRecorder(options: ErrorRecorderOptions): ErrorRecorder {
  const { store } = options;
  const now = options.now ?? Date.now;
  const maxPending = options.maxPending ?? 1000;
  const onFailure = (error: unknown, dropped: number) => {
    try {
      options.onFailure?.(error, dropped);
    } catch {
      // the reporter of failures must not fail
    }
  };
  let queue: ErrorInput[] = [];
  /** Queued plus being written. */
  let pending = 0;
  let writing: Promise<void> = Promise.resolve();
  let scheduled = false;

  const write = () => {
    scheduled = false;
    const batch = queue;
    queue = [];
    writing = writing
      .then(() => store.record(batch))
      .catch((error: unknown) => onFailure(error, batch.length))
      .finally(() => {
        pending -= batch.length;
      });
  };

  return {
    record(report) {
      if (pending >= maxPending) {
        onFailure(new Error(`event_errors backlog above ${maxPending}: error dropped`), 1);
        return;
      }
      queue.push(normalizeReport(report, now()));
      pending++;
      if (!scheduled) {
        scheduled = true;
        setImmediate(write);
      }
    },
    async flush() {
      if (scheduled) write();
      await writing;
    },
  };
}
