/**
 * Example components over the generated hooks, compiled by test/clients/react-types.test.ts: results are typed
 * from the documents' selections (a field a document did not select is an error), variables from the schema
 * (a wrong enum value or a missing required variable is an error), live events from the catalogue.
 */
import {
  useAnalyticsSummaryQuery,
  useCriticalEventsQuery,
  useDeliveryTimelineQuery,
  useDeliveryTracking,
  useEventByIdQuery,
  useEventsLogQuery,
  useHeraldEvents,
  useHeraldQuery,
  useUserTimelineQuery,
  useWebhookDeliveriesQuery,
  useWebhookEndpointsQuery,
  EventByIdDocument,
  type EventsLogQuery,
} from '../../../clients/react/src/index.js';

export function EventsLogPage({ after }: { after?: string }) {
  const { data, loading, error, refetch } = useEventsLogQuery({ first: 20, after, filter: { levels: ['CRITICAL', 'HIGH'], types: ['PAYMENT_FAILED'] }, order: 'NEWEST_FIRST' });
  if (error) return <p role="alert">{error.code}: {error.message}</p>;
  const edges: EventsLogQuery['events']['edges'] = data?.events.edges ?? [];
  const next: string | null | undefined = data?.events.pageInfo.endCursor;
  // @ts-expect-error EventsLog selects the Event interface only: no payload fields.
  const orderId = data?.events.edges[0]?.node.orderId;
  void orderId;
  return (
    <section aria-busy={loading}>
      <ul>
        {edges.map(({ node }) => (
          <li key={node.id}>
            {node.__typename} · {node.level.toLowerCase()} · {new Date(node.timestamp).toLocaleTimeString()} · {node.userId ?? 'broadcast'}
          </li>
        ))}
      </ul>
      {data?.events.pageInfo.hasNextPage && next ? <a href={`?after=${encodeURIComponent(next)}`}>Older</a> : null}
      <button onClick={() => void refetch()}>Refresh</button>
    </section>
  );
}

export function EventDetails({ id }: { id: string }) {
  const { data } = useEventByIdQuery({ id });
  // @ts-expect-error `id` is required.
  useEventByIdQuery({});
  // @ts-expect-error variables are required for EventById.
  useEventByIdQuery();
  const event = data?.event;
  if (!event) return <p>Not found</p>;
  const roles: Array<'CUSTOMER' | 'DELIVERY_PARTNER' | 'SUPPLIER' | 'ADMIN' | 'SERVICE'> = event.roles;
  return (
    <dl>
      <dt>{event.type}</dt>
      <dd>{event.source}</dd>
      <dd>{roles.join(', ')}</dd>
    </dl>
  );
}

export function AdminDashboard() {
  const summary = useAnalyticsSummaryQuery({ date: '2025-06-02' }, { pollIntervalMs: 30_000 });
  const critical = useCriticalEventsQuery({ hours: 6 }, { refetchOnEvents: ['SYSTEM_ALERT', 'PAYMENT_FAILED'] });
  // @ts-expect-error not an event type
  useEventsLogQuery({ filter: { types: ['ORDER_PLACED'] } });
  const levels = summary.data?.analyticsSummary.byLevel ?? [];
  // @ts-expect-error EventLevel has no URGENT
  const urgent = levels.filter((l) => l.level === 'URGENT');
  void urgent;
  return (
    <>
      <p>{summary.data?.analyticsSummary.total ?? '…'} events today</p>
      <ul>{levels.map((l) => <li key={l.level}>{l.level}: {l.count}</li>)}</ul>
      <ul>{summary.data?.analyticsSummary.byType.map((t) => <li key={t.type}>{t.type}: {t.count}</li>)}</ul>
      <ol>{critical.data?.criticalEvents.edges.map((e) => <li key={e.node.id}>{e.node.type}</li>)}</ol>
    </>
  );
}

export function DeliveryPanel({ deliveryId, customerId }: { deliveryId: string; customerId: string }) {
  const history = useDeliveryTimelineQuery({ userId: customerId });
  const live = useDeliveryTracking(deliveryId);
  const steps = (history.data?.events.edges ?? []).flatMap(({ node }) => {
    // The union is discriminated by __typename: payload fields appear once narrowed.
    if (node.__typename === 'EtaUpdatedEvent') return node.deliveryId === deliveryId ? [`ETA ${node.etaAt} (${node.etaSeconds} s)`] : [];
    if (node.__typename === 'DeliveryInTransitEvent') return node.deliveryId === deliveryId ? [`in transit at ${node.currentLocation.latitude}`] : [];
    // @ts-expect-error not selected for accepted deliveries
    if (node.__typename === 'DeliveryAcceptedEvent') return [node.estimatedPickupAt];
    return [node.type];
  });
  const eta: number | null = live.eta?.seconds ?? null;
  // @ts-expect-error the ETA has `seconds`, not `minutes`
  void live.eta?.minutes;
  return (
    <div>
      <p>{live.step ?? 'waiting'}, {eta === null ? 'no ETA' : `${Math.round(eta / 60)} min`}</p>
      <p>{live.position ? `${live.position.latitude.toFixed(4)}, ${live.position.longitude.toFixed(4)}` : 'no position yet'}</p>
      <ol>{steps.map((s, i) => <li key={i}>{s}</li>)}</ol>
      <small>{live.status.state}</small>
    </div>
  );
}

export function Activity({ userId }: { userId: string }) {
  const { data } = useUserTimelineQuery({ userId, from: '2025-06-01T00:00:00.000Z', order: 'OLDEST_FIRST' });
  return <p>{data?.timeline.edges.length ?? 0} events</p>;
}

export function Webhooks({ endpointId }: { endpointId: string }) {
  const endpoints = useWebhookEndpointsQuery();
  const deliveries = useWebhookDeliveriesQuery({ endpointId, status: 'FAILED', first: 10 });
  // @ts-expect-error WebhookDeliveryStatus is PENDING | SUCCEEDED | FAILED
  useWebhookDeliveriesQuery({ endpointId, status: 'RETRYING' });
  return (
    <>
      <ul>{endpoints.data?.webhookEndpoints.map((e) => <li key={e.id}>{e.url} {e.enabled ? 'on' : `off (${e.disabledReason ?? '?'})`}</li>)}</ul>
      <table>
        <tbody>
          {deliveries.data?.webhookDeliveries.edges.map(({ node }) => (
            <tr key={node.id}>
              <td>{node.eventType}</td>
              <td>{node.status}</td>
              <td>{node.attempts.map((a) => `${a.number}: ${a.httpStatus ?? a.errorKind ?? '?'} in ${a.latencyMs} ms`).join('; ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function LiveOrders() {
  const { events } = useHeraldEvents(['ORDER_CREATED', 'ORDER_CONFIRMED'], { limit: 10 });
  const first = events[0];
  if (first?.type === 'ORDER_CONFIRMED') void first.preparationMinutes;
  // @ts-expect-error preparationMinutes belongs to ORDER_CONFIRMED: narrow first
  void first?.preparationMinutes;
  // @ts-expect-error not an event type
  useHeraldEvents(['ORDER_PLACED']);
  // Typed documents work with the generic hook too.
  const byId = useHeraldQuery(EventByIdDocument, { id: 'evt_1' });
  // @ts-expect-error the document's variables are { id }
  useHeraldQuery(EventByIdDocument, { eventId: 'evt_1' });
  return <p>{events.length} orders · {byId.data?.event?.id}</p>;
}
