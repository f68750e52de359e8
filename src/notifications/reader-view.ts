/**
 * Reading a reader's notifications off the log: the unread count and the pages of the list. Both walk the log
 * through the hub (so visibility is the `events` query's) from the reader's positions, and skip the events the
 * reader's marks exclude; the marks are few (positions cover "all"), so each walk reads about what it returns.
 */
import type { EventTypeName } from '../events/catalogue.js';
import { positionOf, type EventId, type HeraldEvent, type LogPosition, type Viewer } from '../events/model.js';
import { atOrBefore, isRead, isUnread, later, MAX_UNREAD_COUNT, type Notification, type NotificationEvents } from './model.js';
import type { NotificationMark, ReadStateRecord } from './read-state-store.js';

/** Largest page read from the log in one go. */
const PAGE = 500;

export interface ReaderSnapshot {
  readonly state: ReadStateRecord;
  /** The reader's marks after `clearedThrough`, by event id. */
  readonly marks: ReadonlyMap<EventId, NotificationMark>;
  /** Events older than this (ms) are past retention: not counted, not listed. */
  readonly cutoff: number;
}

export async function countUnread(events: NotificationEvents, viewer: Viewer, reader: ReaderSnapshot): Promise<{ count: number; capped: boolean }> {
  const { state, marks, cutoff } = reader;
  // Before the positions: only events marked unread again.
  let unread = 0;
  for (const mark of marks.values()) {
    if (mark.read === false && !mark.archived && mark.timestamp >= cutoff && atOrBefore(mark.position, state.readThrough)) unread++;
  }
  // After them: every event but those marked read or archived (at most `marks.size` to skip).
  const skipped = [...marks.values()].filter((mark) => mark.read === true || mark.archived).length;
  let after = later(state.readThrough, state.clearedThrough) ?? undefined;
  while (unread <= MAX_UNREAD_COUNT) {
    const limit = Math.min(PAGE, MAX_UNREAD_COUNT + 1 - unread + skipped);
    const page = await events.listEvents(viewer, { from: cutoff }, { afterSeq: after, limit, order: 'ASC' });
    for (const event of page) if (isUnread(positionOf(event), marks.get(event.id), state)) unread++;
    if (page.length < limit) break;
    after = positionOf(page[page.length - 1]!);
  }
  return { count: Math.min(unread, MAX_UNREAD_COUNT), capped: unread > MAX_UNREAD_COUNT };
}

export interface ListFilter {
  readonly first: number;
  /** Older than this position (the previous page's end). */
  readonly before?: LogPosition;
  readonly unreadOnly: boolean;
  readonly includeArchived: boolean;
  readonly types?: readonly EventTypeName[];
}

/** Up to `first + 1` notifications newest first (one more than asked: the caller tells `hasNextPage` from it). */
export async function listNotifications(events: NotificationEvents, viewer: Viewer, reader: ReaderSnapshot, filter: ListFilter): Promise<Notification[]> {
  const { state, marks, cutoff } = reader;
  const wanted = filter.first + 1;
  const out: Notification[] = [];
  const keep = (event: HeraldEvent): Notification | undefined => {
    const mark = marks.get(event.id);
    const position = positionOf(event);
    const archived = mark?.archived ?? false;
    const read = isRead(position, mark, state);
    if (archived && !filter.includeArchived) return undefined;
    if (filter.unreadOnly && read) return undefined;
    return { event, read, archived };
  };
  // Unread only: past `readThrough` every event is a candidate; before it, only those marked unread again.
  const floor = filter.unreadOnly ? later(state.readThrough, state.clearedThrough) : state.clearedThrough;
  let before = filter.before;
  let exhausted = false;
  while (out.length < wanted && !exhausted) {
    const limit = Math.min(PAGE, wanted - out.length + marks.size);
    const page = await events.listEvents(viewer, { from: cutoff, types: filter.types }, { afterSeq: before, limit, order: 'DESC' });
    for (const event of page) {
      if (atOrBefore(positionOf(event), floor)) {
        exhausted = true;
        break;
      }
      const notification = keep(event);
      if (notification) out.push(notification);
      if (out.length === wanted) break;
    }
    if (page.length < limit) exhausted = true;
    else before = positionOf(page[page.length - 1]!);
  }
  if (filter.unreadOnly && out.length < wanted) {
    const again = [...marks.values()]
      .filter((m) => m.read === false && m.timestamp >= cutoff && atOrBefore(m.position, floor) && (filter.before === undefined || m.position < filter.before))
      .sort((a, b) => b.position - a.position);
    for (const mark of again) {
      const event = await events.getEvent(viewer, mark.eventId);
      if (!event || (filter.types && !filter.types.includes(event.type))) continue;
      const notification = keep(event);
      if (notification) out.push(notification);
      if (out.length === wanted) break;
    }
  }
  return out;
}
