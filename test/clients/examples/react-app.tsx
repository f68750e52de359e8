/** The examples of clients/react/README.md, compiled by `npm run typecheck` and test/clients/react-types.test.ts. */
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import {
  HeraldProvider,
  useDeliveryTracking,
  useEventsLogQuery,
  useHeraldEvents,
  useHeraldStatus,
} from '../../../clients/react/src/index.js';

declare function refreshAccessToken(): Promise<string>;
declare function showToast(text: string): void;

// --- app.tsx
export function mount() {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <HeraldProvider options={{ url: `${location.origin}/graphql`, getToken: refreshAccessToken, storage: localStorage }}>
        <ConnectionBadge />
        <OrderFeed />
        <EventsLog />
        <Tracking deliveryId="dlv_3Hm8ZpL1" />
      </HeraldProvider>
    </StrictMode>,
  );
}

// --- live events, newest first
export function OrderFeed() {
  const { events } = useHeraldEvents(['ORDER_CONFIRMED', 'DELIVERY_ARRIVED', 'PAYMENT_FAILED'], {
    limit: 20,
    onEvent: (e) => e.level === 'CRITICAL' && showToast(e.type), // once per event, not per render
  });
  return (
    <ul>
      {events.map((e) => (
        <li key={e.id}>
          {e.type === 'ORDER_CONFIRMED' && `Order ${e.orderId} confirmed, ready in ${e.preparationMinutes} min`}
          {e.type === 'DELIVERY_ARRIVED' && 'Your courier has arrived'}
          {e.type === 'PAYMENT_FAILED' && `Payment failed: ${e.failureMessage}`}
        </li>
      ))}
    </ul>
  );
}

// --- the connection
export function ConnectionBadge() {
  const { state, fallback } = useHeraldStatus();
  return <span role="status">{state === 'connected' ? (fallback ? 'live (SSE fallback)' : 'live') : state}</span>;
}

// --- delivery tracking
export function Tracking({ deliveryId }: { deliveryId: string }) {
  const { step, eta, position } = useDeliveryTracking(deliveryId);
  return (
    <p>
      {step ?? 'waiting for the courier'}
      {eta && ` · arrives ${new Date(eta.at).toLocaleTimeString()}`}
      {position && ` · at ${position.latitude.toFixed(4)}, ${position.longitude.toFixed(4)}`}
    </p>
  );
}

// --- a generated query hook: the events log, paginated
export function EventsLog() {
  const [after, setAfter] = useState<string | null>(null);
  const { data, loading, error } = useEventsLogQuery({ first: 20, after, filter: { levels: ['CRITICAL', 'HIGH'] } });
  if (error) return <p role="alert">{error.message}</p>;
  return (
    <section aria-busy={loading}>
      <ol>
        {data?.events.edges.map(({ node }) => (
          <li key={node.id}>
            {node.type} · {new Date(node.timestamp).toLocaleString()}
          </li>
        ))}
      </ol>
      {data?.events.pageInfo.hasNextPage && <button onClick={() => setAfter(data.events.pageInfo.endCursor)}>Older</button>}
    </section>
  );
}
