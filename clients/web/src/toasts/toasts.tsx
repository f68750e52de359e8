/**
 * Toasts: one per new live event the user wants to see, colour-coded by level, `role="alert"` for critical
 * ones (read out at once) and `role="status"` otherwise (read out when the reader is idle). They close after
 * 5 s (10 s when critical) or with their close button; the timer pauses while the pointer or focus is on the
 * toast, so it cannot vanish under the user's hand. A click on the body opens the event's details. An event id
 * is toasted once per page, whatever replays.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { iconOf, summary, titleOf, type NotificationEvent } from '../events/describe.js';

export const TOAST_MS = 5000;
export const CRITICAL_TOAST_MS = 10_000;
/** Toasts on screen at once; the oldest goes first. */
const MAX_TOASTS = 4;

export function useToasts() {
  const [toasts, setToasts] = useState<readonly NotificationEvent[]>([]);
  const shown = useRef(new Set<string>());
  const push = useCallback((event: NotificationEvent) => {
    if (shown.current.has(event.id)) return;
    shown.current.add(event.id);
    setToasts((prev) => [...prev, event].slice(-MAX_TOASTS));
  }, []);
  const dismiss = useCallback((id: string) => setToasts((prev) => prev.filter((t) => t.id !== id)), []);
  return { toasts, push, dismiss };
}

function Toast({ event, onDismiss, onOpen }: { event: NotificationEvent; onDismiss: (id: string) => void; onOpen: (event: NotificationEvent) => void }) {
  const critical = event.level === 'CRITICAL';
  const [paused, setPaused] = useState(false);
  const remaining = useRef(critical ? CRITICAL_TOAST_MS : TOAST_MS);
  useEffect(() => {
    if (paused) return;
    const started = Date.now();
    const timer = setTimeout(() => onDismiss(event.id), remaining.current);
    return () => {
      clearTimeout(timer);
      remaining.current = Math.max(1000, remaining.current - (Date.now() - started));
    };
  }, [paused, event.id, onDismiss]);
  const title = titleOf(event);
  return (
    <div
      className={`toast level-${event.level.toLowerCase()}`}
      role={critical ? 'alert' : 'status'}
      data-event-id={event.id}
      onMouseEnter={() => setPaused(true)}
      onMouseLeave={() => setPaused(false)}
      onFocus={() => setPaused(true)}
      onBlur={() => setPaused(false)}
    >
      <button type="button" className="toast__body" onClick={() => onOpen(event)}>
        <span className="toast__icon" aria-hidden="true">
          {iconOf(event)}
        </span>
        <span className="toast__text">
          <strong>{title}</strong>
          <span>{summary(event)}</span>
        </span>
      </button>
      <button type="button" className="toast__close" aria-label={`Dismiss “${title}”`} onClick={() => onDismiss(event.id)}>
        ×
      </button>
      <span className="toast__timer" style={{ animationDuration: `${critical ? CRITICAL_TOAST_MS : TOAST_MS}ms`, animationPlayState: paused ? 'paused' : 'running' }} />
    </div>
  );
}

export function ToastStack({ toasts, onDismiss, onOpen }: { toasts: readonly NotificationEvent[]; onDismiss: (id: string) => void; onOpen: (event: NotificationEvent) => void }) {
  return (
    <section className="toasts" aria-label="New notifications">
      {toasts.map((event) => (
        <Toast key={event.id} event={event} onDismiss={onDismiss} onOpen={onOpen} />
      ))}
    </section>
  );
}
