/**
 * Notifications: the events addressed to a viewer, with a read state kept per reader on the server (the GraphQL
 * `notificationState`, `notifications` and the mark/archive/clear mutations). A reader may only mark events it may
 * see: every id goes through the hub's visibility rule, and ids it may not see, unknown ones, cleared ones and ones
 * past retention are ignored, so no answer tells an event exists. Services have no notifications (FORBIDDEN at the
 * resolver). Every change is pushed to the reader's live watchers (live-state.ts).
 */
import type { EventTypeName } from '../events/catalogue.js';
import { positionOf, type EventId, type HeraldEvent, type LogPosition, type Viewer } from '../events/model.js';
import { ValidationError } from '../errors.js';
import { createLiveState, type LiveState } from './live-state.js';
import { atOrBefore, type Notification, type NotificationEvents, type NotificationState } from './model.js';
import { countUnread, listNotifications, type ReaderSnapshot } from './reader-view.js';
import { readerKeyOf, type MarkChange, type ReadStateStore } from './read-state-store.js';

export interface NotificationsOptions {
  readonly store: ReadStateStore;
  readonly events: NotificationEvents;
  /** Most ids one mutation may name (NOTIFICATIONS_MAX_IDS, whose default lives in config.ts); more is BAD_USER_INPUT. */
  readonly maxIds: number;
  /** Events older than this many days are past retention (EVENT_LOG_RETENTION_DAYS): not counted, not listed. */
  readonly retentionDays: number;
  /** How often other instances' changes are read from a shared store (SHARED_STORE_POLL_MS); 0 when no other instance uses it. @default 0 */
  readonly pollMs?: number;
  readonly onError?: (error: unknown) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface NotificationPage {
  readonly notifications: readonly Notification[];
  readonly hasNextPage: boolean;
}

export interface Notifications {
  state(viewer: Viewer): Promise<NotificationState>;
  list(viewer: Viewer, page: { first: number; after?: LogPosition; unreadOnly: boolean; includeArchived: boolean; types?: readonly EventTypeName[] }): Promise<NotificationPage>;
  markRead(viewer: Viewer, ids: readonly string[]): Promise<NotificationState>;
  markUnread(viewer: Viewer, ids: readonly string[]): Promise<NotificationState>;
  archive(viewer: Viewer, ids: readonly string[]): Promise<NotificationState>;
  /** Reads every event at or before `through` (clamped to what has been delivered), or up to now. */
  markAllRead(viewer: Viewer, through?: LogPosition): Promise<NotificationState>;
  /** Clears every event at or before `through` (clamped likewise), or up to now. */
  clear(viewer: Viewer, through?: LogPosition): Promise<NotificationState>;
  /** The reader's state now and after every change, on any instance sharing the store. */
  watch(viewer: Viewer): AsyncIterableIterator<NotificationState>;
  readonly live: Pick<LiveState, 'watched'>;
  stop(): void;
}

/** How often an instance on a shared store (MongoDB) reads the other instances' changes: they arrive within this. */
export const SHARED_STORE_POLL_MS = 500;

/** Longer strings cannot be event ids: they are ignored without a store round trip. */
const MAX_ID_LENGTH = 64;

export function createNotifications(options: NotificationsOptions): Notifications {
  const { store, events } = options;
  const now = options.now ?? Date.now;
  const retentionMs = options.retentionDays * 86_400_000;

  async function snapshot(viewer: Viewer): Promise<ReaderSnapshot> {
    const key = readerKeyOf(viewer);
    const state = await store.get(key);
    const marks = await store.marksAfter(key, state.clearedThrough);
    return { state, marks: new Map(marks.map((mark) => [mark.eventId, mark])), cutoff: now() - retentionMs };
  }

  async function state(viewer: Viewer): Promise<NotificationState> {
    const reader = await snapshot(viewer);
    const { count, capped } = await countUnread(events, viewer, reader);
    return { ...reader.state, unreadCount: count, unreadCountCapped: capped };
  }

  const live = createLiveState({ store, compute: state, pollMs: options.pollMs ?? 0, onError: options.onError, now });

  /** Strictly after the reader's last change, so instances polling the store tell every change apart. */
  const stamp = (updatedAt: number | null) => Math.max(now(), (updatedAt ?? 0) + 1);

  /** The events among `ids` the viewer may mark: visible, in the log, within retention, not cleared. */
  async function markable(viewer: Viewer, ids: readonly string[], clearedThrough: LogPosition | null): Promise<HeraldEvent[]> {
    if (ids.length > options.maxIds) {
      throw new ValidationError(`ids: at most ${options.maxIds} per call (NOTIFICATIONS_MAX_IDS), got ${ids.length}`, { details: { field: 'ids', limit: options.maxIds } });
    }
    const unique = [...new Set(ids)].filter((id) => id.length <= MAX_ID_LENGTH);
    const found = await Promise.all(unique.map((id) => events.getEvent(viewer, id as EventId)));
    const cutoff = now() - retentionMs;
    return found.filter((event): event is HeraldEvent => event !== null && event.timestamp >= cutoff && !atOrBefore(positionOf(event), clearedThrough));
  }

  async function change(viewer: Viewer, ids: readonly string[], patch: Pick<MarkChange, 'read' | 'archived'>): Promise<NotificationState> {
    const key = readerKeyOf(viewer);
    const current = await store.get(key);
    const targets = await markable(viewer, ids, current.clearedThrough);
    if (!targets.length) return state(viewer);
    await store.mark(key, targets.map((event) => ({ eventId: event.id, position: positionOf(event), timestamp: event.timestamp, ...patch })), stamp(current.updatedAt));
    return changed(viewer);
  }

  /** After a write: the new state, for the answer and for the reader's watchers (counted once for both). */
  async function changed(viewer: Viewer): Promise<NotificationState> {
    const next = await state(viewer);
    live.changed(viewer, next);
    return next;
  }

  /** Where "up to now" stands for this viewer: what live delivery has reached, else its newest event. */
  async function head(viewer: Viewer): Promise<LogPosition | undefined> {
    if (events.position !== undefined) return events.position;
    const [newest] = await events.listEvents(viewer, {}, { limit: 1, order: 'DESC' });
    return newest ? positionOf(newest) : undefined;
  }

  async function advance(viewer: Viewer, field: 'readThrough' | 'clearedThrough', through: LogPosition | undefined): Promise<NotificationState> {
    const key = readerKeyOf(viewer);
    const current = await store.get(key);
    const reached = await head(viewer);
    // Nothing past what has been delivered: a cursor from the future cannot pre-read events.
    const target = through === undefined || reached === undefined ? reached : atOrBefore(through, reached) ? through : reached;
    if (target === undefined || atOrBefore(target, current[field])) return state(viewer);
    await store.advance(key, { [field]: target }, stamp(current.updatedAt));
    return changed(viewer);
  }

  return {
    state,
    async list(viewer, page) {
      const reader = await snapshot(viewer);
      const rows = await listNotifications(events, viewer, reader, { ...page, before: page.after });
      return { notifications: rows.slice(0, page.first), hasNextPage: rows.length > page.first };
    },
    markRead: (viewer, ids) => change(viewer, ids, { read: true }),
    markUnread: (viewer, ids) => change(viewer, ids, { read: false }),
    archive: (viewer, ids) => change(viewer, ids, { archived: true }),
    markAllRead: (viewer, through) => advance(viewer, 'readThrough', through),
    clear: (viewer, through) => advance(viewer, 'clearedThrough', through),
    watch: (viewer) => live.watch(viewer),
    live,
    stop: () => live.stop(),
  };
}
