/**
 * The event catalogue: every event type Herald accepts, with its GraphQL names, domain, default level and
 * audience. This table is the single source of truth for routing and validation; the SDL in
 * `schema/event.graphql` and `schema/events/*.graphql` describes the same types and
 * `test/unit/catalogue.test.ts` keeps the two in step. No I/O, no GraphQL imports: safe to load anywhere.
 */

/** Viewer roles, as they appear in tokens (the GraphQL `Role` enum is the upper-cased form). */
export const ROLES = ['customer', 'delivery_partner', 'supplier', 'admin', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** Event levels, most severe first (the order `levelAtLeast` relies on). */
export const LEVELS = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const;
export type EventLevel = (typeof LEVELS)[number];

/** Domains, one SDL file each: `schema/events/<domain>.graphql`. */
export const DOMAINS = ['earnings', 'delivery', 'order', 'payment', 'location', 'admin', 'supplier'] as const;
export type EventDomain = (typeof DOMAINS)[number];

/** One row of the catalogue. */
export interface EventTypeSpec {
  /** snake_case name used in logs, exports and webhooks, e.g. `order_created`. */
  readonly type: string;
  /** GraphQL object type, e.g. `OrderCreatedEvent`. */
  readonly graphqlType: string;
  /** Value of the GraphQL `EventType` enum, e.g. `ORDER_CREATED`. */
  readonly enumValue: string;
  readonly domain: EventDomain;
  /** Level used when the publisher does not set one. */
  readonly defaultLevel: EventLevel;
  /** Roles that may receive this type besides admins (admins receive everything). */
  readonly audience: readonly Role[];
  /** true for the status/location/ETA types streamed by `deliveryTracking`. */
  readonly tracking: boolean;
  readonly description: string;
}

/*
 * Audience rule. A viewer sees an event iff
 *   viewer.role === 'admin'
 *   or ((event.userId === viewer.sub or viewer.role in event.roles) and roleMayReceive(viewer.role, event.type)).
 * `audience` below is the roleMayReceive half: addressing (userId, roles) picks candidates, the audience caps
 * them, so a mis-addressed event can never leak e.g. a payout to a customer. `service` is in no audience:
 * services publish, they do not subscribe by role.
 */
export const CATALOGUE = [
  // earnings
  { type: 'earning_recorded', graphqlType: 'EarningRecordedEvent', enumValue: 'EARNING_RECORDED', domain: 'earnings',
    defaultLevel: 'LOW', audience: ['delivery_partner'], tracking: false,
    description: 'A courier was credited for a delivery.' },
  { type: 'bonus_earned', graphqlType: 'BonusEarnedEvent', enumValue: 'BONUS_EARNED', domain: 'earnings',
    defaultLevel: 'MEDIUM', audience: ['delivery_partner'], tracking: false,
    description: 'A courier earned a bonus.' },
  { type: 'payout_approved', graphqlType: 'PayoutApprovedEvent', enumValue: 'PAYOUT_APPROVED', domain: 'earnings',
    defaultLevel: 'MEDIUM', audience: ['delivery_partner', 'supplier'], tracking: false,
    description: 'A payout to a courier or supplier was approved and scheduled.' },
  { type: 'payout_completed', graphqlType: 'PayoutCompletedEvent', enumValue: 'PAYOUT_COMPLETED', domain: 'earnings',
    defaultLevel: 'HIGH', audience: ['delivery_partner', 'supplier'], tracking: false,
    description: 'A payout reached the payee.' },
  { type: 'wallet_updated', graphqlType: 'WalletUpdatedEvent', enumValue: 'WALLET_UPDATED', domain: 'earnings',
    defaultLevel: 'LOW', audience: ['customer', 'delivery_partner', 'supplier'], tracking: false,
    description: 'The balance of a wallet changed.' },
  // delivery
  { type: 'delivery_accepted', graphqlType: 'DeliveryAcceptedEvent', enumValue: 'DELIVERY_ACCEPTED', domain: 'delivery',
    defaultLevel: 'MEDIUM', audience: ['customer', 'delivery_partner', 'supplier'], tracking: true,
    description: 'A courier accepted a delivery.' },
  { type: 'delivery_picked_up', graphqlType: 'DeliveryPickedUpEvent', enumValue: 'DELIVERY_PICKED_UP',
    domain: 'delivery', defaultLevel: 'MEDIUM', audience: ['customer', 'delivery_partner', 'supplier'], tracking: true,
    description: 'The courier collected the order from the supplier.' },
  { type: 'delivery_in_transit', graphqlType: 'DeliveryInTransitEvent', enumValue: 'DELIVERY_IN_TRANSIT',
    domain: 'delivery', defaultLevel: 'LOW', audience: ['customer', 'delivery_partner', 'supplier'], tracking: true,
    description: 'The courier is on the way to the customer.' },
  { type: 'delivery_arrived', graphqlType: 'DeliveryArrivedEvent', enumValue: 'DELIVERY_ARRIVED', domain: 'delivery',
    defaultLevel: 'HIGH', audience: ['customer', 'delivery_partner', 'supplier'], tracking: true,
    description: 'The courier arrived at the drop-off point.' },
  { type: 'delivery_completed', graphqlType: 'DeliveryCompletedEvent', enumValue: 'DELIVERY_COMPLETED',
    domain: 'delivery', defaultLevel: 'MEDIUM', audience: ['customer', 'delivery_partner', 'supplier'], tracking: true,
    description: 'The order was handed over; the delivery is done.' },
  { type: 'delivery_cancelled', graphqlType: 'DeliveryCancelledEvent', enumValue: 'DELIVERY_CANCELLED',
    domain: 'delivery', defaultLevel: 'HIGH', audience: ['customer', 'delivery_partner', 'supplier'], tracking: true,
    description: 'The delivery was cancelled.' },
  // order
  { type: 'order_created', graphqlType: 'OrderCreatedEvent', enumValue: 'ORDER_CREATED', domain: 'order',
    defaultLevel: 'HIGH', audience: ['customer', 'supplier'], tracking: false,
    description: 'A customer placed an order with a supplier.' },
  { type: 'order_confirmed', graphqlType: 'OrderConfirmedEvent', enumValue: 'ORDER_CONFIRMED', domain: 'order',
    defaultLevel: 'MEDIUM', audience: ['customer', 'supplier'], tracking: false,
    description: 'The supplier accepted the order.' },
  { type: 'order_ready', graphqlType: 'OrderReadyEvent', enumValue: 'ORDER_READY', domain: 'order',
    defaultLevel: 'HIGH', audience: ['customer', 'supplier', 'delivery_partner'], tracking: false,
    description: 'The order is packed and ready for pick-up.' },
  { type: 'order_cancelled', graphqlType: 'OrderCancelledEvent', enumValue: 'ORDER_CANCELLED', domain: 'order',
    defaultLevel: 'HIGH', audience: ['customer', 'supplier', 'delivery_partner'], tracking: false,
    description: 'The order was cancelled.' },
  // payment
  { type: 'payment_initiated', graphqlType: 'PaymentInitiatedEvent', enumValue: 'PAYMENT_INITIATED', domain: 'payment',
    defaultLevel: 'LOW', audience: ['customer'], tracking: false,
    description: 'A payment for an order was started with the payment provider.' },
  { type: 'payment_completed', graphqlType: 'PaymentCompletedEvent', enumValue: 'PAYMENT_COMPLETED', domain: 'payment',
    defaultLevel: 'MEDIUM', audience: ['customer', 'supplier'], tracking: false,
    description: 'A payment was captured.' },
  { type: 'payment_failed', graphqlType: 'PaymentFailedEvent', enumValue: 'PAYMENT_FAILED', domain: 'payment',
    defaultLevel: 'CRITICAL', audience: ['customer', 'supplier'], tracking: false,
    description: 'A payment was declined or errored.' },
  { type: 'refund_completed', graphqlType: 'RefundCompletedEvent', enumValue: 'REFUND_COMPLETED', domain: 'payment',
    defaultLevel: 'MEDIUM', audience: ['customer', 'supplier'], tracking: false,
    description: 'Money was returned to the customer.' },
  // location
  { type: 'location_updated', graphqlType: 'LocationUpdatedEvent', enumValue: 'LOCATION_UPDATED', domain: 'location',
    defaultLevel: 'LOW', audience: ['customer', 'delivery_partner'], tracking: true,
    description: 'A courier reported a new position.' },
  { type: 'eta_updated', graphqlType: 'EtaUpdatedEvent', enumValue: 'ETA_UPDATED', domain: 'location',
    defaultLevel: 'LOW', audience: ['customer', 'delivery_partner', 'supplier'], tracking: true,
    description: 'The estimated arrival time of a delivery changed.' },
  // admin
  { type: 'dispute_created', graphqlType: 'DisputeCreatedEvent', enumValue: 'DISPUTE_CREATED', domain: 'admin',
    defaultLevel: 'HIGH', audience: ['customer', 'delivery_partner', 'supplier'], tracking: false,
    description: 'A customer, courier or supplier opened a dispute about an order.' },
  { type: 'dispute_resolved', graphqlType: 'DisputeResolvedEvent', enumValue: 'DISPUTE_RESOLVED', domain: 'admin',
    defaultLevel: 'MEDIUM', audience: ['customer', 'delivery_partner', 'supplier'], tracking: false,
    description: 'Support closed a dispute.' },
  { type: 'system_alert', graphqlType: 'SystemAlertEvent', enumValue: 'SYSTEM_ALERT', domain: 'admin',
    defaultLevel: 'CRITICAL', audience: [], tracking: false,
    description: 'A platform component raised an operational alert (admins only).' },
  // supplier
  { type: 'inventory_alert', graphqlType: 'InventoryAlertEvent', enumValue: 'INVENTORY_ALERT', domain: 'supplier',
    defaultLevel: 'HIGH', audience: ['supplier'], tracking: false,
    description: "A supplier's stock of a product fell to or below its alert threshold." },
  { type: 'webhook_endpoint_disabled', graphqlType: 'WebhookEndpointDisabledEvent', enumValue: 'WEBHOOK_ENDPOINT_DISABLED',
    domain: 'supplier', defaultLevel: 'HIGH', audience: ['supplier'], tracking: false,
    description: "Herald disabled one of the owner's webhook endpoints (410 Gone, or failing for too long)." },
] as const satisfies readonly EventTypeSpec[];

/** snake_case name of a catalogued event type. */
export type EventTypeName = (typeof CATALOGUE)[number]['type'];

/** Every event type, in catalogue order. */
export const EVENT_TYPES: readonly EventTypeName[] = Object.freeze(CATALOGUE.map((spec) => spec.type));

const SPECS: ReadonlyMap<string, EventTypeSpec> = new Map(CATALOGUE.map((spec) => [spec.type, spec]));

/** The catalogue row of `type`. Total over `EventTypeName`; use `isEventType` first on untrusted strings. */
export function getSpec(type: EventTypeName): EventTypeSpec {
  return SPECS.get(type) as EventTypeSpec;
}

/** Whether `value` is a catalogued snake_case event type. */
export function isEventType(value: string): value is EventTypeName {
  return SPECS.has(value);
}

const AUDIENCES: ReadonlyMap<string, ReadonlySet<Role>> = new Map(
  CATALOGUE.map((spec) => [spec.type, new Set<Role>(spec.audience)]),
);

/**
 * Whether `role` may receive `type` at all (admins always may). Addressing (`userId`, `roles`) decides
 * whether a given viewer actually does. False for strings outside the catalogue.
 */
export function roleMayReceive(role: Role, type: EventTypeName): boolean {
  return role === 'admin' || (AUDIENCES.get(type)?.has(role) ?? false);
}

const LEVEL_RANK: ReadonlyMap<EventLevel, number> = new Map(LEVELS.map((level, i) => [level, i]));

/** Whether `level` is at least as severe as `min` (CRITICAL >= HIGH >= MEDIUM >= LOW). */
export function levelAtLeast(level: EventLevel, min: EventLevel): boolean {
  return (LEVEL_RANK.get(level) as number) <= (LEVEL_RANK.get(min) as number);
}

/** Types streamed by `deliveryTracking`: delivery status, courier location and ETA. */
export const TRACKING_TYPES: readonly EventTypeName[] = Object.freeze(
  CATALOGUE.filter((spec) => spec.tracking).map((spec) => spec.type),
);

const RECEIVABLE: ReadonlyMap<Role, readonly EventTypeName[]> = new Map(
  ROLES.map((role) => [role, Object.freeze(EVENT_TYPES.filter((type) => roleMayReceive(role, type)))]),
);

/** Every type `role` may receive, in catalogue order; precomputed, so cheap to call per subscription. */
export function typesReceivableBy(role: Role): readonly EventTypeName[] {
  return RECEIVABLE.get(role) ?? [];
}
