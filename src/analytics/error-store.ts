/**
 * `event_errors`: failures worth an admin's attention (publish rejections, webhook deliveries that failed,
 * processing errors), kept apart from the event log and summarized by `errorSummary`.
 */

/** Where a failure happened. */
export type ErrorKind = 'validation' | 'delivery' | 'processing';

export const ERROR_KINDS: readonly ErrorKind[] = ['validation', 'delivery', 'processing'];

/** A failure to record. Free text is capped by the recorder before it reaches a store. */
export interface ErrorInput {
  readonly kind: ErrorKind;
  /** The service or component concerned, e.g. `orders-service` or `webhooks`; null when unknown. */
  readonly source: string | null;
  readonly message: string;
  /** For validation errors: the offending field path, e.g. `data.amount`. */
  readonly field?: string | null;
  readonly eventId?: string | null;
  readonly endpointId?: string | null;
  /** Small, safe, JSON-serializable details (status code, attempt number...). Never secrets. */
  readonly details?: Readonly<Record<string, unknown>> | null;
  /** ms since the epoch. @default now, when recorded through the recorder */
  readonly at: number;
}

export interface RecordedError extends Required<Omit<ErrorInput, 'details'>> {
  readonly id: string;
  readonly details: Readonly<Record<string, unknown>> | null;
}

/** Counts grouped by one field (`kind` or `source`); `key` null for errors without a source. */
export interface ErrorCount {
  readonly key: string | null;
  readonly count: number;
}

export interface ErrorStore {
  /** Appends errors (one round trip). */
  record(errors: readonly ErrorInput[]): Promise<void>;
  /** Errors with `at >= since`, grouped by `kind` or `source`, in no particular order. */
  countSince(since: number, by: 'kind' | 'source'): Promise<ErrorCount[]>;
  /** The newest `limit` errors with `at >= since`, newest first. */
  latest(since: number, limit: number): Promise<RecordedError[]>;
  /** Deletes errors with `at < before`; returns how many. */
  purgeBefore(before: number): Promise<number>;
}
