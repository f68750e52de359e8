/**
 * The notification list as the bell shows it: the first page from the hub on load (what happened while the tab
 * was closed), older pages on demand, live events prepended as they come (each id once: a Map by event id, so a
 * replay after a reconnect or an event both in a page and live is never shown twice), and read state from the
 * hub. Actions update the list at once and take the hub's counts from the answer; a change made on another
 * device (`onChange`) re-reads the loaded part of the list.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useHeraldClient } from '@herald/react';
import type { HeraldEvent } from '@herald/sdk';
import { asNotificationEvent, deliveryIdOf, typesOf, type Domain, type NotificationEvent } from '../events/describe.js';
import type { NotificationCounts, NotificationItem, ReadStateBackend } from './read-state.js';

export interface NotificationFilter {
  readonly unreadOnly: boolean;
  readonly domain: Domain | null;
}

export const PAGE_SIZE = 20;
/** The most the hub returns per page; a resync re-reads at most this many. */
const MAX_PAGE = 100;

interface ListState {
  /** By event id, in display order (newest first): the hub's page order, live events put in front. */
  readonly items: ReadonlyMap<string, NotificationItem>;
  readonly endCursor: string | null;
  readonly hasNextPage: boolean;
  readonly loading: boolean;
  readonly loadingMore: boolean;
  readonly error: string | null;
}

const EMPTY: ListState = { items: new Map(), endCursor: null, hasNextPage: false, loading: true, loadingMore: false, error: null };

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export interface UseNotificationsOptions {
  readonly backend: ReadStateBackend | null;
  readonly role: string;
  /** Once per new live event (toasts, sounds), after it entered the list. */
  readonly onLive?: (event: NotificationEvent) => void;
}

export function useNotifications({ backend, role, onLive }: UseNotificationsOptions) {
  const client = useHeraldClient();
  const [filter, setFilter] = useState<NotificationFilter>({ unreadOnly: false, domain: null });
  const [list, setList] = useState<ListState>(EMPTY);
  const [counts, setCounts] = useState<NotificationCounts | null>(null);
  // Every id handed to onLive: an event alerts once, even when it is also in a page (a reconnect's replay of
  // what happened while away, which a re-read of the list may have shown first).
  const alerted = useRef(new Set<string>());
  const arrivedAt = useRef(new Map<string, number>()); // when each live event arrived (ms), for merging pages
  // The newest event this page has seen, in any filter: "mark all read" and "clear all" go that far, never
  // past an event that arrived after the user looked.
  const newest = useRef<{ timestamp: string; cursor: string } | null>(null);
  // Deliveries seen in any list or live, for the tracking panel: each with its oldest event here and its latest time.
  const [deliveries, setDeliveries] = useState<ReadonlyMap<string, { origin: NotificationEvent; latest: string }>>(new Map());
  const saw = (event: NotificationEvent) => {
    if (!newest.current || event.timestamp > newest.current.timestamp) newest.current = { timestamp: event.timestamp, cursor: event.cursor };
    const deliveryId = deliveryIdOf(event);
    if (!deliveryId) return;
    setDeliveries((prev) => {
      const known = prev.get(deliveryId);
      if (known && known.origin.timestamp <= event.timestamp && known.latest >= event.timestamp) return prev;
      const next = new Map(prev);
      next.set(deliveryId, {
        origin: known && known.origin.timestamp <= event.timestamp ? known.origin : event,
        latest: known && known.latest > event.timestamp ? known.latest : event.timestamp,
      });
      return next;
    });
  };
  const latest = useRef({ filter, list, onLive });
  latest.current = { filter, list, onLive };

  const types = useMemo(() => (filter.domain ? typesOf(filter.domain, role) : null), [filter.domain, role]);
  const request = useMemo(() => ({ unreadOnly: filter.unreadOnly, types }), [filter.unreadOnly, types]);
  const generation = useRef(0);

  const load = useCallback(
    async (first: number) => {
      if (!backend) return;
      const mine = ++generation.current;
      const startedAt = Date.now();
      try {
        const page = await backend.page({ first, ...request });
        if (mine !== generation.current) return;
        for (const item of page.items) saw(item.event);
        setList((prev) => {
          // Live events that arrived while the page was being read may be missing from it: keep them on top.
          // Anything else the page does not hold is gone (archived or cleared, maybe on another device).
          const ids = new Set(page.items.map((i) => i.event.id));
          const kept = [...prev.items.values()].filter((i) => !ids.has(i.event.id) && (arrivedAt.current.get(i.event.id) ?? -1) >= startedAt);
          const items = new Map([...kept, ...page.items].map((i) => [i.event.id, i]));
          return { items, endCursor: page.endCursor, hasNextPage: page.hasNextPage, loading: false, loadingMore: false, error: null };
        });
        setCounts(page.counts);
      } catch (error) {
        if (mine === generation.current) setList((prev) => ({ ...prev, loading: false, loadingMore: false, error: message(error) }));
      }
    },
    [backend, request],
  );

  // The first page, again whenever the filter changes.
  useEffect(() => {
    setList(EMPTY);
    void load(PAGE_SIZE);
  }, [load]);

  const loadMore = useCallback(async () => {
    const { list: current } = latest.current;
    if (!backend || !current.hasNextPage || current.loadingMore) return;
    const mine = generation.current;
    setList((prev) => ({ ...prev, loadingMore: true }));
    try {
      const page = await backend.page({ first: PAGE_SIZE, after: current.endCursor, ...request });
      if (mine !== generation.current) return;
      for (const item of page.items) saw(item.event);
      setList((prev) => {
        const items = new Map(prev.items);
        for (const item of page.items) if (!items.has(item.event.id)) items.set(item.event.id, item);
        return { ...prev, items, endCursor: page.endCursor, hasNextPage: page.hasNextPage, loadingMore: false, error: null };
      });
      setCounts(page.counts);
    } catch (error) {
      setList((prev) => ({ ...prev, loadingMore: false, error: message(error) }));
    }
  }, [backend, request]);

  // Re-reads what is loaded (bounded) after a change elsewhere; changes in a burst re-read once.
  const resyncTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const resync = useCallback(() => {
    clearTimeout(resyncTimer.current);
    resyncTimer.current = setTimeout(() => {
      const loaded = latest.current.list.items.size;
      void load(Math.min(MAX_PAGE, Math.max(PAGE_SIZE, loaded)));
    }, 100);
  }, [load]);
  useEffect(() => () => clearTimeout(resyncTimer.current), []);

  useEffect(() => {
    if (!backend) return;
    return backend.onChange((next) => {
      setCounts(next);
      resync();
    });
  }, [backend, resync]);

  // New events raise the count now; the hub's own count follows shortly (one query per burst).
  const countTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refreshCounts = useCallback(() => {
    clearTimeout(countTimer.current);
    countTimer.current = setTimeout(() => {
      void backend?.counts().then(setCounts, () => {});
    }, 400);
  }, [backend]);
  useEffect(() => () => clearTimeout(countTimer.current), []);

  useEffect(() => {
    if (!client || !backend) return;
    const handler = (live: HeraldEvent) => {
      if (alerted.current.has(live.id)) return;
      alerted.current.add(live.id);
      const event = asNotificationEvent(live);
      const listed = latest.current.list.items.has(event.id); // then the hub's count has it already
      saw(event);
      arrivedAt.current.set(event.id, Date.now());
      if (arrivedAt.current.size > 10_000) arrivedAt.current.delete(arrivedAt.current.keys().next().value!);
      const { filter: f } = latest.current;
      const fits = !f.domain || typesOf(f.domain, role).includes(event.type);
      if (fits) {
        setList((prev) => {
          if (prev.items.has(event.id)) return prev;
          return { ...prev, items: new Map([[event.id, { event, read: false, archived: false }], ...prev.items]) };
        });
      }
      if (!listed) setCounts((prev) => (prev && !prev.unreadCountCapped ? { ...prev, unreadCount: prev.unreadCount + 1 } : prev));
      refreshCounts();
      latest.current.onLive?.(event);
    };
    return client.on('*', handler);
  }, [client, backend, role, refreshCounts]);

  const items = useMemo(() => [...list.items.values()].filter((i) => !i.archived && (!filter.unreadOnly || !i.read)), [list.items, filter.unreadOnly]);

  const update = (ids: readonly string[], change: Partial<NotificationItem>) =>
    setList((prev) => {
      const items = new Map(prev.items);
      for (const id of ids) {
        const item = items.get(id);
        if (item) items.set(id, { ...item, ...change });
      }
      return { ...prev, items };
    });

  const run = useCallback(
    async (action: () => Promise<NotificationCounts>) => {
      try {
        setCounts(await action());
      } catch (error) {
        setList((prev) => ({ ...prev, error: message(error) }));
        resync(); // the hub did not take it: show what it holds
      }
    },
    [resync],
  );

  const markRead = useCallback(
    (ids: readonly string[]) => {
      const unread = ids.filter((id) => latest.current.list.items.get(id)?.read === false);
      if (!backend || unread.length === 0) return;
      update(unread, { read: true });
      setCounts((prev) => (prev && !prev.unreadCountCapped ? { ...prev, unreadCount: Math.max(0, prev.unreadCount - unread.length) } : prev));
      void run(() => backend.markRead(unread));
    },
    [backend, run],
  );

  const newestCursor = () => newest.current?.cursor ?? null;

  const markAllRead = useCallback(() => {
    if (!backend) return;
    const through = newestCursor();
    update([...latest.current.list.items.keys()], { read: true });
    setCounts((prev) => (prev ? { ...prev, unreadCount: 0, unreadCountCapped: false } : prev));
    void run(() => backend.markAllRead(through));
  }, [backend, run]);

  const archive = useCallback(
    (ids: readonly string[]) => {
      if (!backend || ids.length === 0) return;
      update(ids, { archived: true });
      void run(() => backend.archive(ids));
    },
    [backend, run],
  );

  const clearAll = useCallback(() => {
    if (!backend) return;
    const through = newestCursor();
    setList((prev) => ({ ...prev, items: new Map(), hasNextPage: false, endCursor: null }));
    setCounts((prev) => (prev ? { ...prev, unreadCount: 0, unreadCountCapped: false } : prev));
    void run(() => backend.clear(through));
  }, [backend, run]);

  const trackable = useMemo(
    () => [...deliveries].sort((a, b) => (a[1].latest < b[1].latest ? 1 : -1)).map(([deliveryId, d]) => ({ deliveryId, origin: d.origin })),
    [deliveries],
  );

  return {
    items,
    deliveries: trackable,
    counts,
    filter,
    setFilter,
    loading: list.loading,
    loadingMore: list.loadingMore,
    error: list.error,
    hasMore: list.hasNextPage,
    loadMore,
    markRead,
    markAllRead,
    archive,
    clearAll,
  };
}

export type NotificationsApi = ReturnType<typeof useNotifications>;
