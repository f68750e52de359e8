/**
 * Where notification read state is kept: one record per reader (a user in one role) and one mark per event the
 * reader touched one by one. The two positions (`readThrough`, `clearedThrough`) cover any number of events in
 * one write; marks cover the exceptions (read one by one after `readThrough`, unread again before it, archived).
 * Implemented on SQLite and MongoDB (src/store/*); the same contract suite runs on both.
 */
import type { EventId, LogPosition } from '../events/model.js';
import type { Role } from '../events/catalogue.js';

declare const readerKey: unique symbol;

/**
 * Whose state: a user id in one role (`<role>:<userId>`), so a customer and an admin who share a `sub` never share
 * a state, and every mark is of an event the reader's role may see.
 */
export type ReaderKey = string & { readonly [readerKey]: true };

export const readerKeyOf = (viewer: { readonly role: Role; readonly userId: string }): ReaderKey => `${viewer.role}:${viewer.userId}` as ReaderKey;

/** A reader's positions; all null until the first change. */
export interface ReadStateRecord {
  /** Every event at or before this position is read, unless marked unread since. */
  readonly readThrough: LogPosition | null;
  /** Every event at or before this position is cleared (gone from the list and the count). */
  readonly clearedThrough: LogPosition | null;
  /** ms since the epoch; strictly increasing per reader (the writer makes it so). */
  readonly updatedAt: number | null;
}

export const EMPTY_READ_STATE: ReadStateRecord = Object.freeze({ readThrough: null, clearedThrough: null, updatedAt: null });

/** One event the reader marked one by one. */
export interface NotificationMark {
  readonly eventId: EventId;
  /** The event's log position, so marks can be compared with the reader's positions in the store. */
  readonly position: LogPosition;
  /** The event's timestamp (ms), so marks of events past retention can be purged. */
  readonly timestamp: number;
  /** true/false: marked read/unread; null: as its position says (read iff at or before `readThrough`). */
  readonly read: boolean | null;
  readonly archived: boolean;
}

/** What one write changes on a mark: fields left out keep their value (a new mark: `read` null, not archived). */
export interface MarkChange {
  readonly eventId: EventId;
  readonly position: LogPosition;
  readonly timestamp: number;
  readonly read?: boolean;
  readonly archived?: boolean;
}

export interface ReadStateStore {
  get(key: ReaderKey): Promise<ReadStateRecord>;
  /** The reader's marks of events after `after` (all of them when null), in no particular order. */
  marksAfter(key: ReaderKey, after: LogPosition | null): Promise<NotificationMark[]>;
  /** Upserts marks and sets the record's `updatedAt`. */
  mark(key: ReaderKey, changes: readonly MarkChange[], updatedAt: number): Promise<void>;
  /**
   * Moves the positions forward (never back: each is the greater of the stored and the given one) and sets
   * `updatedAt`. Marks the new positions make redundant are dropped: every mark at or before `clearedThrough`;
   * at or before `readThrough`, the `read` of every mark (archived ones stay archived).
   */
  advance(key: ReaderKey, positions: { readonly readThrough?: LogPosition; readonly clearedThrough?: LogPosition }, updatedAt: number): Promise<void>;
  /** Readers whose state changed at or after `since` (ms), for instances sharing the store. */
  changedSince(since: number): Promise<{ readonly key: ReaderKey; readonly updatedAt: number }[]>;
  /** Drops marks of events older than `before` (retention); returns how many. */
  purgeBefore(before: number): Promise<number>;
}
