/**
 * Where the notification list and its read state come from: the hub (schema/notifications.graphql), per user,
 * so reading on one device marks it read on the others. The rest of the page talks to `ReadStateBackend` only;
 * this module is the one place that knows the operations, so another source (a test double, a client-side
 * store) can replace it.
 *
 * `onChange` follows `notificationStateChanged` over its own graphql-ws connection (the SDK's `on()` carries
 * event subscriptions only), retried forever with backoff; the hub sends the state once at start, so every
 * (re)connect resynchronises a page that missed changes while it was away. Where WebSocket cannot get through
 * (the SDK fell back to SSE), `pollMs` polls `notificationState` instead.
 */
import { createClient, type Client } from 'graphql-ws';
import type { HeraldClient } from '@herald/sdk';
import {
  ArchiveNotificationsDocument,
  ClearNotificationsDocument,
  MarkAllNotificationsReadDocument,
  MarkNotificationsReadDocument,
  NotificationStateChangedDocument,
  NotificationStateDocument,
  NotificationsDocument,
  type EventType,
  type NotificationCountsFragment,
} from '../generated/graphql.js';
import type { NotificationEvent } from '../events/describe.js';

export interface NotificationItem {
  readonly event: NotificationEvent;
  readonly read: boolean;
  readonly archived: boolean;
}

export type NotificationCounts = NotificationCountsFragment;

export interface NotificationPage {
  readonly items: readonly NotificationItem[];
  readonly endCursor: string | null;
  readonly hasNextPage: boolean;
  readonly counts: NotificationCounts;
}

export interface PageRequest {
  readonly first: number;
  readonly after?: string | null;
  readonly unreadOnly?: boolean;
  /** Only these types (a domain); null: all. */
  readonly types?: readonly EventType[] | null;
}

export interface ReadStateBackend {
  page(request: PageRequest): Promise<NotificationPage>;
  counts(): Promise<NotificationCounts>;
  markRead(ids: readonly string[]): Promise<NotificationCounts>;
  /** Everything at or before `through` (a cursor this page has seen), or everything up to now. */
  markAllRead(through: string | null): Promise<NotificationCounts>;
  archive(ids: readonly string[]): Promise<NotificationCounts>;
  clear(through: string | null): Promise<NotificationCounts>;
  /** Read-state changes made on any device (this one too), and once per (re)connect. Returns a stop function. */
  onChange(listener: (counts: NotificationCounts) => void): () => void;
}

export interface ServerReadStateOptions {
  readonly client: HeraldClient;
  /** The hub's WebSocket URL (`ws(s)://…/graphql`). */
  readonly wsUrl: string;
  readonly getToken: () => string;
  /** Whether live traffic is on the SSE fallback now (WebSocket blocked): poll instead. */
  readonly onSseFallback: () => boolean;
  /** Poll interval on the fallback. @default 15000 */
  readonly pollMs?: number;
}

export function createServerReadState(options: ServerReadStateOptions): ReadStateBackend {
  const { client } = options;
  return {
    async page(request) {
      const data = await client.query(NotificationsDocument, {
        first: request.first,
        after: request.after ?? null,
        unreadOnly: request.unreadOnly ?? false,
        types: request.types && request.types.length > 0 ? [...request.types] : null,
      });
      return {
        items: data.notifications.edges.map(({ node }) => ({ event: node.event, read: node.read, archived: node.archived })),
        endCursor: data.notifications.pageInfo.endCursor ?? null,
        hasNextPage: data.notifications.pageInfo.hasNextPage,
        counts: data.notificationState,
      };
    },
    counts: async () => (await client.query(NotificationStateDocument, {})).notificationState,
    markRead: async (ids) => (await client.query(MarkNotificationsReadDocument, { ids: [...ids] })).markNotificationsRead,
    markAllRead: async (through) => (await client.query(MarkAllNotificationsReadDocument, { through })).markAllNotificationsRead,
    archive: async (ids) => (await client.query(ArchiveNotificationsDocument, { ids: [...ids] })).archiveNotifications,
    clear: async (through) => (await client.query(ClearNotificationsDocument, { through })).clearNotifications,
    onChange(listener) {
      let stopped = false;
      let ws: Client | undefined;
      let stopWs: (() => void) | undefined;
      let lastPolled = '';
      const startWs = () => {
        ws = createClient({
          url: options.wsUrl,
          lazy: true,
          retryAttempts: Number.POSITIVE_INFINITY,
          shouldRetry: () => true,
          // full jitter, 1 s doubling to 30 s, as the SDK
          retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(30_000, 1000 * 2 ** retries))),
          connectionParams: () => ({ authorization: `Bearer ${options.getToken()}` }),
        });
        stopWs = ws.subscribe<{ notificationStateChanged: NotificationCounts }>(
          { query: String(NotificationStateChangedDocument) },
          {
            next: (result) => {
              if (result.data) listener(result.data.notificationStateChanged);
            },
            error: () => {},
            complete: () => {},
          },
        );
      };
      startWs();
      // The fallback: while the SDK is on SSE, WebSocket is blocked for this one too.
      const poll = setInterval(() => {
        if (stopped || !options.onSseFallback()) return;
        void client
          .query(NotificationStateDocument, {})
          .then(({ notificationState }) => {
            const key = JSON.stringify(notificationState);
            if (stopped || key === lastPolled) return;
            lastPolled = key;
            listener(notificationState);
          })
          .catch(() => {});
      }, options.pollMs ?? 15_000);
      return () => {
        stopped = true;
        clearInterval(poll);
        stopWs?.();
        void ws?.dispose();
      };
    },
  };
}
