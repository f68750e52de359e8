/**
 * What a notification is, as the domain answers it: the reader's state with its unread count, and one event with
 * its read and archived flags. The rules deciding both are here, once, for the count, the list and the mutations.
 */
import type { EventQuery } from '../events/hub.js';
import type { EventId, HeraldEvent, LogPosition, Viewer } from '../events/model.js';
import type { NotificationMark, ReadStateRecord } from './read-state-store.js';

/**
 * The unread count is exact up to here; above it the count says "more than this" (`capped`: a badge shows "99+").
 * Counting reads at most this many unread events plus the reader's marks, whatever the log's size.
 */
export const MAX_UNREAD_COUNT = 99;

export interface NotificationState extends ReadStateRecord {
  /** Visible, within retention, not read, not archived, not cleared; at most MAX_UNREAD_COUNT. */
  readonly unreadCount: number;
  /** More are unread than `unreadCount`. */
  readonly unreadCountCapped: boolean;
}

export interface Notification {
  readonly event: HeraldEvent;
  readonly read: boolean;
  readonly archived: boolean;
}

/** The events the notifications are made of: the hub's view of the log, filtered to what a viewer may see. */
export interface NotificationEvents {
  getEvent(viewer: Viewer, id: EventId): Promise<HeraldEvent | null>;
  listEvents(viewer: Viewer, query: EventQuery, page: { afterSeq?: number; limit: number; order: 'ASC' | 'DESC' }): Promise<HeraldEvent[]>;
  /** Every position up to here is delivered: "mark all read" without a cursor reads through here. */
  readonly position: LogPosition | undefined;
}

/** `a` at or before `b` (a null `b`: before the log). */
export const atOrBefore = (a: LogPosition, b: LogPosition | null): boolean => b !== null && a <= b;

/** The later of two positions (null: none). */
export const later = (a: LogPosition | null, b: LogPosition | null): LogPosition | null => (a === null ? b : b === null ? a : a > b ? a : b);

/** Whether the reader has read the event at `position`, given its mark (if any) and `readThrough`. */
export const isRead = (position: LogPosition, mark: NotificationMark | undefined, state: ReadStateRecord): boolean =>
  mark?.read ?? atOrBefore(position, state.readThrough);

/** Whether it counts as unread: not read and not archived. */
export const isUnread = (position: LogPosition, mark: NotificationMark | undefined, state: ReadStateRecord): boolean =>
  !mark?.archived && !isRead(position, mark, state);
