/**
 * The delivery-tracking panel: the status steps, the ETA and the courier's last position on an inline SVG
 * track, fed by `deliveryTracking` (useDeliveryTracking). It follows the newest delivery among the viewer's
 * notifications, or one picked from the list. The oldest event of it the page holds is folded first and the
 * live subscription replays from its cursor, so a reloaded page redraws the route so far.
 */
import { useMemo, useState } from 'react';
import { DELIVERY_STEPS, emptyTracking, reduceDeliveryTracking, useDeliveryTracking, type DeliveryStep } from '@herald/react';
import { asTrackingEvent, type NotificationEvent } from '../events/describe.js';
import { useNow } from '../ui/relative-time.js';
import { TrackMap } from './track-map.js';

const STEP_LABEL: Record<DeliveryStep, string> = {
  ACCEPTED: 'Courier assigned',
  PICKED_UP: 'Picked up',
  IN_TRANSIT: 'On the way',
  ARRIVED: 'Arrived',
  COMPLETED: 'Delivered',
  CANCELLED: 'Cancelled',
};

export interface KnownDelivery {
  readonly deliveryId: string;
  /** The oldest event of it the page holds (replay starts after it). */
  readonly origin: NotificationEvent;
}

function Steps({ step }: { step: DeliveryStep | null }) {
  const current = step === 'CANCELLED' ? -1 : step ? DELIVERY_STEPS.indexOf(step) : -1;
  return (
    <ol className="steps" aria-label="Delivery status">
      {DELIVERY_STEPS.map((s, i) => (
        <li key={s} className={i < current ? 'steps__done' : i === current ? 'steps__current' : ''} aria-current={i === current ? 'step' : undefined}>
          <span className="steps__dot" aria-hidden="true" />
          {STEP_LABEL[s]}
        </li>
      ))}
    </ol>
  );
}

function Tracker({ known }: { known: KnownDelivery }) {
  const live = useDeliveryTracking(known.deliveryId, { after: known.origin.cursor });
  const seed = useMemo(() => reduceDeliveryTracking(emptyTracking(known.deliveryId), asTrackingEvent(known.origin)), [known.deliveryId, known.origin]);
  const now = useNow(15_000);
  const step = live.step ?? seed.step;
  const eta = live.count > 0 ? live.eta : seed.eta;
  const trail = seed.position ? [seed.position, ...live.trail] : live.trail;
  const position = live.position ?? seed.position;
  const inMinutes = eta ? Math.max(0, Math.round((Date.parse(eta.at) - now) / 60_000)) : null;
  return (
    <div className="tracker" data-delivery-id={known.deliveryId}>
      <Steps step={step} />
      {step === 'CANCELLED' && <p className="tracker__cancelled">This delivery was cancelled.</p>}
      <p className="tracker__eta" aria-live="polite">
        {eta ? (
          <>
            <span className="tracker__eta-label">Arrives</span> <strong>{new Date(eta.at).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}</strong>
            <span className="tracker__eta-in"> · {inMinutes === 0 ? 'any moment now' : `in ${inMinutes} min`}</span>
            {eta.delayReason && <span className="tracker__delay"> · {eta.delayReason}</span>}
          </>
        ) : step === 'COMPLETED' ? (
          'Delivered. Enjoy!'
        ) : (
          'No arrival estimate yet'
        )}
      </p>
      <TrackMap
        trail={trail}
        label={position ? `Courier’s last position: ${position.latitude.toFixed(4)}, ${position.longitude.toFixed(4)}` : 'Courier’s position not known yet'}
      />
      {position && (
        <p className="tracker__position">
          Last position {position.latitude.toFixed(4)}, {position.longitude.toFixed(4)}
          {position.speedKmh != null && ` · ${Math.round(position.speedKmh)} km/h`}
        </p>
      )}
    </div>
  );
}

export function TrackingPanel({ deliveries }: { deliveries: readonly KnownDelivery[] }) {
  const [picked, setPicked] = useState<string | null>(null);
  const known = deliveries.find((d) => d.deliveryId === picked) ?? deliveries[0];
  return (
    <section className="card tracking" aria-labelledby="tracking-title">
      <header className="card__header">
        <h2 id="tracking-title">🛵 Delivery tracking</h2>
        {deliveries.length > 1 && (
          <label>
            <span className="visually-hidden">Delivery</span>
            <select value={known?.deliveryId ?? ''} onChange={(e) => setPicked(e.target.value)}>
              {deliveries.map((d) => (
                <option key={d.deliveryId} value={d.deliveryId}>
                  {d.deliveryId}
                </option>
              ))}
            </select>
          </label>
        )}
        {deliveries.length === 1 && known && <code className="card__meta">{known.deliveryId}</code>}
      </header>
      {known ? <Tracker key={known.deliveryId} known={known} /> : <p className="card__empty">No delivery to follow yet. When a courier accepts one of your orders, it shows up here, live.</p>}
    </section>
  );
}
