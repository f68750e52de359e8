/**
 * The newest few notifications on the page itself (the bell's list holds them all): what a user opening the
 * page looks at first. Read-only rows; a click opens the details, as in the bell.
 */
import { iconOf, summary, titleOf, type NotificationEvent } from '../events/describe.js';
import { relativeTime, useNow } from '../ui/relative-time.js';
import type { NotificationsApi } from './use-notifications.js';

const SHOWN = 6;

export function Recent({ api, onOpen }: { api: NotificationsApi; onOpen: (event: NotificationEvent) => void }) {
  const now = useNow();
  const items = api.items.slice(0, SHOWN);
  const unread = api.counts?.unreadCount ?? 0;
  return (
    <section className="card recent" aria-labelledby="recent-title">
      <header className="card__header">
        <h2 id="recent-title">🕒 Recent</h2>
        <span className="card__meta">{unread === 0 ? 'all caught up' : `${api.counts?.unreadCountCapped ? `${unread}+` : unread} unread`}</span>
      </header>
      {items.length === 0 ? (
        <p className="card__empty">{api.loading ? 'Loading…' : 'Nothing yet. Orders, deliveries and payments show up here as they happen.'}</p>
      ) : (
        <ul className="recent__list" aria-label="Recent notifications">
          {items.map(({ event, read }) => (
            <li key={event.id} className={`row level-${event.level.toLowerCase()}${read ? '' : ' row--unread'}`}>
              <button type="button" className="row__main" onClick={() => onOpen(event)}>
                <span className="row__icon" aria-hidden="true">
                  {iconOf(event)}
                </span>
                <span className="row__text">
                  <span className="row__title">{titleOf(event)}</span>
                  <span className="row__summary">{summary(event)}</span>
                </span>
                <time className="recent__time" dateTime={event.timestamp}>
                  {relativeTime(event.timestamp, now)}
                </time>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
