/**
 * How the page shows an event: an emoji and a title per type, a one-line summary from its payload, and a colour
 * per level. Written against the `NotificationEvent` fragment (documents/notifications.graphql), which the
 * history rows carry; live events from the SDK carry every field of their type, a superset (`asNotificationEvent`).
 * `Record<EventType, …>` makes a type added to the schema fail the type check until it has a row here.
 */
import type { HeraldEvent } from '@herald/sdk';
import type { EventLevel, EventType, NotificationEventFragment } from '../generated/graphql.js';
import { CATALOGUE } from '../generated/catalogue.js';

export type NotificationEvent = NotificationEventFragment;

/**
 * A live event as a notification row. The SDK selects every field of each type and the fragment a subset of
 * them, so every field the fragment's type names is there; the SDK's types mark nullable fields optional where
 * the fragment's say `T | null`, which `summary` treats alike (`?? …`, `!= null`).
 */
export const asNotificationEvent = (event: HeraldEvent): NotificationEvent => event as unknown as NotificationEvent;

/**
 * A delivery row as the tracking reducer's input: the fragment selects, for the delivery, ETA and location
 * types, every field `reduceDeliveryTracking` reads (documents/notifications.graphql), and the reducer reads
 * nothing of the other types.
 */
export const asTrackingEvent = (event: NotificationEvent): HeraldEvent => event as unknown as HeraldEvent;

export type Domain = (typeof CATALOGUE)[EventType]['domain'];

export const DOMAIN_LABEL: Record<Domain, string> = {
  order: 'Orders',
  delivery: 'Deliveries',
  payment: 'Payments',
  earnings: 'Earnings',
  location: 'Location',
  supplier: 'Stock & webhooks',
  admin: 'Disputes & alerts',
};

export const domainOf = (type: EventType): Domain => CATALOGUE[type].domain;

/** Types of a domain that a role may receive (admins: all), in a stable order. */
export function typesOf(domain: Domain, role: string): EventType[] {
  return (Object.keys(CATALOGUE) as EventType[]).filter((t) => {
    const spec = CATALOGUE[t];
    return spec.domain === domain && (role === 'ADMIN' || (spec.audience as readonly string[]).includes(role));
  });
}

/** Domains with at least one type the role may receive. */
export const domainsFor = (role: string): Domain[] => (Object.keys(DOMAIN_LABEL) as Domain[]).filter((d) => typesOf(d, role).length > 0);

export const LEVEL_LABEL: Record<EventLevel, string> = { CRITICAL: 'Critical', HIGH: 'High', MEDIUM: 'Medium', LOW: 'Low' };

interface TypeView {
  readonly icon: string;
  readonly title: string;
}

export const TYPE_VIEW: Record<EventType, TypeView> = {
  ORDER_CREATED: { icon: '🛒', title: 'New order' },
  ORDER_CONFIRMED: { icon: '✅', title: 'Order confirmed' },
  ORDER_READY: { icon: '📦', title: 'Order ready for pick-up' },
  ORDER_CANCELLED: { icon: '🚫', title: 'Order cancelled' },
  PAYMENT_INITIATED: { icon: '💳', title: 'Payment started' },
  PAYMENT_COMPLETED: { icon: '💰', title: 'Payment completed' },
  PAYMENT_FAILED: { icon: '⛔', title: 'Payment failed' },
  REFUND_COMPLETED: { icon: '↩️', title: 'Refund completed' },
  DELIVERY_ACCEPTED: { icon: '🛵', title: 'Courier on the way to the shop' },
  DELIVERY_PICKED_UP: { icon: '🥡', title: 'Order picked up' },
  DELIVERY_IN_TRANSIT: { icon: '🚚', title: 'On the way to you' },
  DELIVERY_ARRIVED: { icon: '📍', title: 'Courier has arrived' },
  DELIVERY_COMPLETED: { icon: '🎉', title: 'Delivered' },
  DELIVERY_CANCELLED: { icon: '⚠️', title: 'Delivery cancelled' },
  ETA_UPDATED: { icon: '⏱️', title: 'New arrival time' },
  LOCATION_UPDATED: { icon: '🧭', title: 'Courier moved' },
  EARNING_RECORDED: { icon: '💵', title: 'Earning recorded' },
  BONUS_EARNED: { icon: '🏆', title: 'Bonus earned' },
  PAYOUT_APPROVED: { icon: '🗓️', title: 'Payout approved' },
  PAYOUT_COMPLETED: { icon: '🏦', title: 'Payout completed' },
  WALLET_UPDATED: { icon: '👛', title: 'Wallet updated' },
  DISPUTE_CREATED: { icon: '🗣️', title: 'Dispute opened' },
  DISPUTE_RESOLVED: { icon: '🤝', title: 'Dispute resolved' },
  SYSTEM_ALERT: { icon: '🚨', title: 'System alert' },
  INVENTORY_ALERT: { icon: '📉', title: 'Low stock' },
  WEBHOOK_ENDPOINT_DISABLED: { icon: '🔌', title: 'Webhook endpoint disabled' },
};

const money = (amount: number | null | undefined, currency: string | null | undefined) => {
  if (amount == null) return '';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency || 'EUR' }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency ?? ''}`.trim();
  }
};

const minutes = (seconds: number | null | undefined) => (seconds == null ? '' : `${Math.max(1, Math.round(seconds / 60))} min`);
const clock = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) : '');
const join = (...parts: Array<string | null | undefined | false>) => parts.filter(Boolean).join(' · ');

/** One line saying what happened, from the payload. */
export function summary(event: NotificationEvent): string {
  switch (event.__typename) {
    case 'OrderCreatedEvent':
      return join(`Order ${event.orderId}`, `${event.items.reduce((n, i) => n + i.quantity, 0)} items`, money(event.amount, event.currency));
    case 'OrderConfirmedEvent':
      return join(`Order ${event.orderId}`, `ready in ${event.preparationMinutes} min`);
    case 'OrderReadyEvent':
      return join(`Order ${event.orderId}`, `${event.packageCount} package${event.packageCount === 1 ? '' : 's'}`, event.pickupCode && `code ${event.pickupCode}`);
    case 'OrderCancelledEvent':
      return join(`Order ${event.orderId}`, event.reason, event.refundAmount > 0 && `refund ${money(event.refundAmount, event.currency)}`);
    case 'PaymentInitiatedEvent':
    case 'PaymentCompletedEvent':
      return join(money(event.amount, event.currency), `order ${event.orderId}`, event.provider);
    case 'PaymentFailedEvent':
      return join(money(event.amount, event.currency), event.failureMessage, event.retryable ? 'you can retry' : null);
    case 'RefundCompletedEvent':
      return join(money(event.amount, event.currency), event.reason);
    case 'DeliveryAcceptedEvent':
      return join(event.deliveryPartnerName ?? 'A courier', event.vehicleType.toLowerCase(), event.estimatedDeliveryAt && `expected ${clock(event.estimatedDeliveryAt)}`);
    case 'DeliveryPickedUpEvent':
      return join(`Order ${event.orderId}`, event.estimatedDeliveryAt && `expected ${clock(event.estimatedDeliveryAt)}`);
    case 'DeliveryInTransitEvent':
      return join(`Arrives in ${minutes(event.etaSeconds)}`, `at ${clock(event.etaAt)}`);
    case 'DeliveryArrivedEvent':
      return join(`Order ${event.orderId}`, event.dropoffInstructions);
    case 'DeliveryCompletedEvent':
      return join(`Order ${event.orderId}`, event.proofOfDelivery.toLowerCase().replace(/_/g, ' '));
    case 'DeliveryCancelledEvent':
      return join(event.reason, event.reassigning && 'finding another courier');
    case 'EtaUpdatedEvent':
      return join(`Arrives in ${minutes(event.etaSeconds)}`, `at ${clock(event.etaAt)}`, event.delayReason);
    case 'LocationUpdatedEvent':
      return join(`${event.latitude.toFixed(4)}, ${event.longitude.toFixed(4)}`, event.speedKmh != null && `${Math.round(event.speedKmh)} km/h`);
    case 'EarningRecordedEvent':
      return money(event.amount, event.currency);
    case 'BonusEarnedEvent':
      return join(money(event.amount, event.currency), event.description);
    case 'PayoutApprovedEvent':
      return join(money(event.amount, event.currency), `on ${new Date(event.scheduledFor).toLocaleDateString()}`);
    case 'PayoutCompletedEvent':
      return join(money(event.amount, event.currency), event.transferReference);
    case 'WalletUpdatedEvent':
      return join(`Balance ${money(event.balance, event.currency)}`, `${event.delta >= 0 ? '+' : '−'}${money(Math.abs(event.delta), event.currency)}`);
    case 'DisputeCreatedEvent':
      return join(`Order ${event.orderId}`, event.reason, money(event.amount, event.currency));
    case 'DisputeResolvedEvent':
      return join(event.resolution, event.refundAmount > 0 && `refund ${money(event.refundAmount, event.currency)}`);
    case 'SystemAlertEvent':
      return join(event.component, event.message, event.resolved && 'resolved');
    case 'InventoryAlertEvent':
      return join(event.productName, `${event.quantityLeft} left (alert at ${event.threshold})`);
    case 'WebhookEndpointDisabledEvent':
      return event.url;
    default:
      return '';
  }
}

export const titleOf = (event: Pick<NotificationEvent, 'type'>) => TYPE_VIEW[event.type].title;
export const iconOf = (event: Pick<NotificationEvent, 'type'>) => TYPE_VIEW[event.type].icon;

/**
 * The delivery a status or ETA event belongs to, for the tracking panel (the hub streams `deliveryTracking`
 * once it has seen a status event of the delivery; other types that name a delivery do not start one).
 */
export function deliveryIdOf(event: NotificationEvent): string | null {
  if (CATALOGUE[event.type].domain !== 'delivery' && event.type !== 'ETA_UPDATED') return null;
  return 'deliveryId' in event && typeof event.deliveryId === 'string' ? event.deliveryId : null;
}
