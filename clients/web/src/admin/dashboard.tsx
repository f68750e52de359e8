/**
 * The admins' live dashboard: critical events and system alerts as they come (the last day's from
 * `criticalEvents`, then live), today's totals by level (`analyticsSummary`, refreshed as critical events arrive
 * and every 5 s), and the event rate — per minute over the last hour (`eventRate`, every 10 s) and the live
 * events of the last 60 s counted in the page.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useAnalyticsSummaryQuery, useHeraldEvents } from '@herald/react';
import { asNotificationEvent, iconOf, LEVEL_LABEL, summary, titleOf, type NotificationEvent } from '../events/describe.js';
import { useCriticalFeedQuery, useEventRateQuery } from '../generated/hooks.js';
import type { EventLevel } from '../generated/graphql.js';
import { relativeTime, useNow } from '../ui/relative-time.js';

const LEVELS: EventLevel[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];
const FEED_SIZE = 8;

const minuteFloor = (ms: number) => Math.floor(ms / 60_000) * 60_000;

function RateChart({ points }: { points: ReadonlyArray<{ start: string; count: number }> }) {
  const max = Math.max(1, ...points.map((p) => p.count));
  const w = 300;
  const h = 64;
  const bar = w / Math.max(1, points.length);
  return (
    <svg className="rate-chart" viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" role="img" aria-label={`Events per minute over the last hour, at most ${max}`}>
      <line x1="0" y1={h - 0.5} x2={w} y2={h - 0.5} className="rate-chart__base" />
      {points.map((p, i) => {
        const bh = (p.count / max) * (h - 4);
        return <rect key={p.start} x={i * bar + 0.5} y={h - bh} width={Math.max(1, bar - 1)} height={bh} rx="1" />;
      })}
    </svg>
  );
}

export function Dashboard({ onOpen }: { onOpen: (event: NotificationEvent) => void }) {
  const now = useNow(30_000);
  const to = minuteFloor(now) + 60_000;
  const range = useMemo(() => ({ from: new Date(to - 60 * 60_000).toISOString(), to: new Date(to).toISOString(), bucket: 'MINUTE' as const }), [to]);
  const rate = useEventRateQuery(range, { pollIntervalMs: 10_000 });
  const today = useAnalyticsSummaryQuery({}, { pollIntervalMs: 5000, refetchOnEvents: ['SYSTEM_ALERT', 'PAYMENT_FAILED'] });
  const critical = useCriticalFeedQuery({ hours: 24, first: FEED_SIZE });

  // Live: one '*' handler (shared with the bell's subscription by the SDK), counted per second for the rate.
  const arrivals = useRef<number[]>([]);
  const [live, setLive] = useState<readonly NotificationEvent[]>([]);
  useHeraldEvents('*', {
    limit: 1,
    onEvent: (e) => {
      arrivals.current.push(Date.now());
      if (e.level === 'CRITICAL' || e.type === 'SYSTEM_ALERT') setLive((prev) => [asNotificationEvent(e), ...prev].slice(0, FEED_SIZE));
    },
  });
  const [perMinute, setPerMinute] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => {
      const cutoff = Date.now() - 60_000;
      arrivals.current = arrivals.current.filter((t) => t > cutoff);
      setPerMinute(arrivals.current.length);
    }, 1000);
    return () => clearInterval(timer);
  }, []);

  const feed = useMemo(() => {
    const byId = new Map<string, NotificationEvent>();
    for (const e of [...live, ...(critical.data?.criticalEvents.edges.map((x) => x.node) ?? [])]) if (!byId.has(e.id)) byId.set(e.id, e);
    return [...byId.values()].sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1)).slice(0, FEED_SIZE);
  }, [live, critical.data]);

  const byLevel = new Map(today.data?.analyticsSummary.byLevel.map((l) => [l.level, l.count]));
  const points = rate.data?.eventRate.points ?? [];

  return (
    <section className="card dashboard" aria-labelledby="dashboard-title">
      <header className="card__header">
        <h2 id="dashboard-title">📊 Live dashboard</h2>
        <span className="card__meta">admins only</span>
      </header>
      <div className="dashboard__grid">
        <div className="dashboard__tile">
          <h3>Today by level</h3>
          <p className="dashboard__total">
            <strong>{today.data?.analyticsSummary.total ?? '–'}</strong> events
          </p>
          <ul className="levels" aria-label="Today’s events by level">
            {LEVELS.map((level) => (
              <li key={level} className={`level-${level.toLowerCase()}`}>
                <span className="levels__name">{LEVEL_LABEL[level]}</span>
                <span className="levels__count">{byLevel.get(level) ?? 0}</span>
              </li>
            ))}
          </ul>
        </div>
        <div className="dashboard__tile">
          <h3>Event rate</h3>
          <p className="dashboard__total">
            <strong data-testid="live-rate">{perMinute}</strong> / min now
            {rate.data && <span className="card__meta"> · {Math.round(rate.data.eventRate.average * 10) / 10} / min avg, last hour</span>}
          </p>
          <RateChart points={points} />
        </div>
        <div className="dashboard__tile dashboard__feed">
          <h3>Critical events &amp; system alerts</h3>
          {feed.length === 0 ? (
            <p className="card__empty">Nothing critical in the last 24 hours.</p>
          ) : (
            <ul className="feed" aria-live="polite" aria-label="Critical events and system alerts">
              {feed.map((e) => (
                <li key={e.id} className={`level-${e.level.toLowerCase()}`}>
                  <button type="button" onClick={() => onOpen(e)}>
                    <span aria-hidden="true">{iconOf(e)}</span>
                    <span className="feed__text">
                      <strong>{titleOf(e)}</strong> {summary(e)}
                    </span>
                    <time dateTime={e.timestamp}>{relativeTime(e.timestamp, now)}</time>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    </section>
  );
}
