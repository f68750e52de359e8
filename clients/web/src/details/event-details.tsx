/**
 * An event's details in a modal `<dialog>` (the browser traps focus, Escape closes it, focus goes back to
 * what opened it): title, level, when, who published it, and every payload field the page holds.
 */
import { useEffect, useRef } from 'react';
import { LEVEL_LABEL, iconOf, summary, titleOf, type NotificationEvent } from '../events/describe.js';
import { relativeTime } from '../ui/relative-time.js';

const BASE_FIELDS = new Set(['__typename', 'id', 'type', 'level', 'userId', 'roles', 'source', 'timestamp', 'cursor']);

const label = (key: string) => key.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase());

function value(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object') return JSON.stringify(v, null, 1);
  return String(v);
}

export function EventDetails({ event, onClose }: { event: NotificationEvent | null; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (event && !d.open) d.showModal();
    if (!event && d.open) d.close();
  }, [event]);
  const fields = event ? Object.entries(event).filter(([k]) => !BASE_FIELDS.has(k) && !k.includes('__')) : [];
  return (
    <dialog ref={dialog} className="details" aria-labelledby="details-title" onClose={onClose} onClick={(e) => e.target === dialog.current && onClose()}>
      {event && (
        <article className={`level-${event.level.toLowerCase()}`}>
          <header className="details__header">
            <span className="details__icon" aria-hidden="true">
              {iconOf(event)}
            </span>
            <div>
              <h2 id="details-title">{titleOf(event)}</h2>
              <p>{summary(event)}</p>
            </div>
          </header>
          <dl className="details__meta">
            <dt>Level</dt>
            <dd>
              <span className="level-pill">{LEVEL_LABEL[event.level]}</span>
            </dd>
            <dt>When</dt>
            <dd>
              <time dateTime={event.timestamp}>{new Date(event.timestamp).toLocaleString()}</time> ({relativeTime(event.timestamp)})
            </dd>
            <dt>From</dt>
            <dd>{event.source}</dd>
            <dt>Type</dt>
            <dd>
              <code>{event.type}</code>
            </dd>
            <dt>Event id</dt>
            <dd>
              <code>{event.id}</code>
            </dd>
            {fields.map(([k, v]) => (
              <FieldRow key={k} name={label(k)} text={value(v)} />
            ))}
          </dl>
          <form method="dialog" className="details__footer">
            <button type="submit" className="button" autoFocus>
              Close
            </button>
          </form>
        </article>
      )}
    </dialog>
  );
}

function FieldRow({ name, text }: { name: string; text: string }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{text.includes('\n') ? <pre>{text}</pre> : text}</dd>
    </>
  );
}
