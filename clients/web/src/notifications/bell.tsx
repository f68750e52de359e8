/**
 * The bell: a button whose accessible name carries the unread count ("Notifications, 3 unread"), and the
 * dropdown it opens — filters (all / unread / a domain), the list with relative times, per-row "mark read" and
 * "archive", "mark all read", "clear all", and "older" for the next page. Escape or a click outside closes it
 * and gives focus back to the bell.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { DOMAIN_LABEL, domainsFor, iconOf, summary, titleOf, type Domain, type NotificationEvent } from '../events/describe.js';
import { relativeTime, useNow } from '../ui/relative-time.js';
import type { NotificationsApi } from './use-notifications.js';
import type { NotificationItem } from './read-state.js';

export function unreadLabel(count: number, capped: boolean): string {
  if (count === 0) return 'Notifications, none unread';
  return `Notifications, ${capped ? `more than ${count}` : count} unread`;
}

function Row({ item, now, api, onOpen }: { item: NotificationItem; now: number; api: NotificationsApi; onOpen: (event: NotificationEvent) => void }) {
  const { event, read } = item;
  const title = titleOf(event);
  return (
    <li className={`row level-${event.level.toLowerCase()}${read ? '' : ' row--unread'}`} data-event-id={event.id}>
      <button type="button" className="row__main" onClick={() => onOpen(event)}>
        <span className="row__icon" aria-hidden="true">
          {iconOf(event)}
        </span>
        <span className="row__text">
          <span className="row__title">
            {title}
            {!read && <span className="visually-hidden"> (unread)</span>}
          </span>
          <span className="row__summary">{summary(event)}</span>
          <time className="row__time" dateTime={event.timestamp} title={new Date(event.timestamp).toLocaleString()}>
            {relativeTime(event.timestamp, now)}
          </time>
        </span>
      </button>
      <span className="row__actions">
        {!read && (
          <button type="button" className="icon-button" aria-label={`Mark “${title}” as read`} title="Mark as read" onClick={() => api.markRead([event.id])}>
            ✓
          </button>
        )}
        <button type="button" className="icon-button" aria-label={`Archive “${title}”`} title="Archive" onClick={() => api.archive([event.id])}>
          🗄
        </button>
      </span>
    </li>
  );
}

export function Bell({ api, role, onOpen }: { api: NotificationsApi; role: string; onOpen: (event: NotificationEvent) => void }) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const now = useNow();
  const unread = api.counts?.unreadCount ?? 0;
  const capped = api.counts?.unreadCountCapped ?? false;

  const close = (focusBell = true) => {
    setOpen(false);
    if (focusBell) button.current?.focus();
  };

  useEffect(() => {
    if (!open) return;
    panel.current?.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && close();
    const onPointer = (e: PointerEvent) => {
      const target = e.target as Node;
      if (!panel.current?.contains(target) && !button.current?.contains(target)) close(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onPointer);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [open]);

  const setDomain = (value: string) => api.setFilter({ ...api.filter, domain: (value || null) as Domain | null });

  return (
    <div className="bell">
      <button
        ref={button}
        type="button"
        className="bell__button"
        aria-label={unreadLabel(unread, capped)}
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((v) => !v)}
      >
        <span aria-hidden="true">🔔</span>
        {unread > 0 && (
          <span className="bell__badge" aria-hidden="true">
            {capped ? `${unread}+` : unread}
          </span>
        )}
      </button>
      <div ref={panel} id={panelId} className="panel" role="dialog" aria-label="Notifications" hidden={!open}>
        <header className="panel__header">
          <h2>Notifications</h2>
          <div className="panel__actions">
            <button type="button" className="link-button" onClick={api.markAllRead} disabled={unread === 0}>
              Mark all read
            </button>
            <button type="button" className="link-button" onClick={api.clearAll} disabled={api.items.length === 0}>
              Clear all
            </button>
          </div>
        </header>
        <div className="panel__filters" role="group" aria-label="Show">
          <button type="button" data-autofocus aria-pressed={!api.filter.unreadOnly} onClick={() => api.setFilter({ ...api.filter, unreadOnly: false })}>
            All
          </button>
          <button type="button" aria-pressed={api.filter.unreadOnly} onClick={() => api.setFilter({ ...api.filter, unreadOnly: true })}>
            Unread
          </button>
          <label className="panel__domain">
            <span className="visually-hidden">Domain</span>
            <select value={api.filter.domain ?? ''} onChange={(e) => setDomain(e.target.value)}>
              <option value="">Every domain</option>
              {domainsFor(role).map((d) => (
                <option key={d} value={d}>
                  {DOMAIN_LABEL[d]}
                </option>
              ))}
            </select>
          </label>
        </div>
        {api.error && (
          <p className="panel__error" role="alert">
            {api.error}
          </p>
        )}
        <ul className="panel__list" aria-label="Notification list" aria-busy={api.loading}>
          {api.items.map((item) => (
            <Row key={item.event.id} item={item} now={now} api={api} onOpen={(e) => (api.markRead([e.id]), onOpen(e))} />
          ))}
        </ul>
        {!api.loading && api.items.length === 0 && <p className="panel__empty">{api.filter.unreadOnly ? 'No unread notifications 🎉' : 'Nothing here yet. New notifications appear as they happen.'}</p>}
        {api.loading && <p className="panel__empty">Loading…</p>}
        {api.hasMore && (
          <button type="button" className="panel__more" onClick={() => void api.loadMore()} disabled={api.loadingMore}>
            {api.loadingMore ? 'Loading…' : 'Show older'}
          </button>
        )}
      </div>
    </div>
  );
}
