/**
 * The narrow contract every event log implements (SQLite embedded, MongoDB in production).
 * Domain code depends on this interface only; drivers live in src/store/*.
 */
import type { EventLevel, EventTypeName, Role } from './catalogue.js';
import type { EventId, HeraldEvent, NewEvent } from './model.js';

/** Restricts results to what one viewer may receive (see the audience rule in catalogue.ts). */
export interface Audience {
  readonly userId: string;
  readonly role: Role;
  /** Types the role may receive at all (already intersected with any requested types). */
  readonly types: readonly EventTypeName[];
}

export interface EventFilter {
  readonly userId?: string;
  readonly types?: readonly EventTypeName[];
  readonly levels?: readonly EventLevel[];
  readonly sources?: readonly string[];
  readonly deliveryId?: string;
  /** Inclusive lower bound, ms since epoch. */
  readonly from?: number;
  /** Exclusive upper bound, ms since epoch. */
  readonly to?: number;
  /** Absent for admins; present: only events this audience may receive. */
  readonly audience?: Audience;
}

export interface ListOptions {
  readonly filter: EventFilter;
  /** Keyset position: events strictly after (ASC) or before (DESC) this seq. */
  readonly afterSeq?: number;
  /** Only events at or below this seq (a replay reads up to the position its live feed starts after). */
  readonly untilSeq?: number;
  readonly order: 'ASC' | 'DESC';
  readonly limit: number;
}

export interface LogBounds {
  readonly oldest: number | null;
  readonly head: number;
}

export interface AppendResult {
  readonly event: HeraldEvent;
  /** true when an event with the same idempotency key already existed and was returned instead. */
  readonly duplicate: boolean;
}

export interface EventStore {
  /** Human-readable name for logs and health (`sqlite`, `mongodb`). */
  readonly kind: string;
  /**
   * Names this log: chosen once when the log is created and kept for its life (across restarts, and shared by
   * every instance writing it). Cursors carry it, so a cursor of another log is told apart (src/events/cursor.ts).
   */
  readonly epoch: string;
  /**
   * Durably appends events in order and assigns each a `seq`. Resolves only once written.
   * Events whose idempotency key already exists are not written again: the stored one is returned.
   */
  append(events: readonly NewEvent[]): Promise<AppendResult[]>;
  get(id: EventId): Promise<HeraldEvent | null>;
  /** Keyset-paginated listing; must not slow down with depth. */
  list(options: ListOptions): Promise<HeraldEvent[]>;
  /** Number of events with `timestamp >= since`. */
  countSince(since: number): Promise<number>;
  /** Highest committed seq (0 when empty). */
  lastSeq(): Promise<number>;
  /**
   * What a resume cursor can be checked against: `oldest` is the lowest seq still in the log (null when it
   * is empty), `head` the highest seq ever assigned, which never goes down, even when retention empties the log.
   */
  bounds(): Promise<LogBounds>;
  /**
   * Lets the store enforce retention itself (a TTL index on MongoDB). `purge` means the caller
   * must purge periodically with `purgeBefore`; stores without this method always need that.
   */
  ensureRetention?(days: number | null): Promise<{ mode: 'ttl' | 'purge' | 'off' }>;
  /**
   * Closes a position no event will fill (a writer reserved it and died, or its write lost a race): marks it
   * abandoned in the log, so a writer that still tries to commit there fails and takes a new position, and
   * no event can ever appear behind a cursor a client already holds. Returns the event if one was committed
   * there after all (the caller delivers it), or null once the position is closed. Stores with a single
   * writer, whose positions are contiguous by construction, need not implement it. See docs/cursors.md.
   */
  abandon?(seq: number): Promise<HeraldEvent | null>;
  /** Deletes events with `timestamp < before`; returns how many. */
  purgeBefore(before: number): Promise<number>;
  close(): Promise<void>;
}
