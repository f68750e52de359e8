/**
 * One valid, deterministic example `data` payload per event type: every non-null field filled, optional ones
 * filled where a real publisher usually would, DateTime values as ISO-8601 UTC strings. Used by tests, the
 * README tour and the benchmark data generator. All examples tell one story: order `ord_7Kq2VxR9` from a
 * Berlin pizzeria, delivered by courier `dp_9Rf2KcM7`.
 */
import { getSpec, type EventLevel, type EventTypeName } from './catalogue.js';

const CUSTOMER = 'cus_5Tn4WbQ6';
const PARTNER = 'dp_9Rf2KcM7';
const SUPPLIER = 'sup_2Lx6JdN3';
const ORDER = 'ord_7Kq2VxR9';
const DELIVERY = 'dlv_3Hm8ZpL1';
const PAYMENT = 'pay_8Wd1TsG4';
const DISPUTE = 'dsp_4Qa7YeC2';
const PAYOUT = 'po_6Nv3HuB8';
const SUPPLIER_GEO = { latitude: 52.529801, longitude: 13.401502 };
const CUSTOMER_GEO = { latitude: 52.538412, longitude: 13.424187 };

const EXAMPLES: { readonly [K in EventTypeName]: Readonly<Record<string, unknown>> } = {
  earning_recorded: {
    earningId: 'ern_1Fz8MqK3', deliveryPartnerId: PARTNER, deliveryId: DELIVERY, orderId: ORDER,
    amount: 7.1, currency: 'EUR', distanceMeters: 2140,
    breakdown: { baseFare: 2.5, distanceFare: 1.85, waitTimeFare: 0, tip: 2, surge: 0.75, adjustment: 0 },
  },
  bonus_earned: {
    bonusId: 'bns_2Gc5RwT9', deliveryPartnerId: PARTNER, bonusKind: 'QUEST', amount: 15, currency: 'EUR',
    description: 'Lunch rush quest: 10 deliveries between 11:00 and 14:00', campaignId: 'cmp_lunch_rush_w23',
    periodStart: '2025-06-02T09:00:00.000Z', periodEnd: '2025-06-02T12:00:00.000Z',
  },
  payout_approved: {
    payoutId: PAYOUT, payeeId: PARTNER, payeeKind: 'DELIVERY_PARTNER', amount: 412.35, currency: 'EUR',
    method: 'BANK_TRANSFER', scheduledFor: '2025-06-03T06:00:00.000Z', approvedBy: 'adm_0Ke4PzX1',
    periodStart: '2025-05-26T00:00:00.000Z', periodEnd: '2025-06-01T23:59:59.999Z',
  },
  payout_completed: {
    payoutId: PAYOUT, payeeId: PARTNER, payeeKind: 'DELIVERY_PARTNER', amount: 412.35, currency: 'EUR',
    method: 'BANK_TRANSFER', transferReference: 'SEPA-20250603-000417', destinationLast4: '4821',
  },
  wallet_updated: {
    walletId: 'wal_3Jb9LsV5', ownerId: CUSTOMER, ownerKind: 'CUSTOMER', balance: 18.5, previousBalance: 12,
    delta: 6.5, currency: 'EUR', reason: 'REFUND', referenceId: 'rfd_5Pm2XaD7',
  },
  delivery_accepted: {
    deliveryId: DELIVERY, orderId: ORDER, customerId: CUSTOMER, deliveryPartnerId: PARTNER, supplierId: SUPPLIER,
    vehicleType: 'BICYCLE', deliveryPartnerName: 'Jonas K.',
    estimatedPickupAt: '2025-06-02T12:08:00.000Z', estimatedDeliveryAt: '2025-06-02T12:24:00.000Z',
  },
  delivery_picked_up: {
    deliveryId: DELIVERY, orderId: ORDER, customerId: CUSTOMER, deliveryPartnerId: PARTNER, supplierId: SUPPLIER,
    pickupLocation: SUPPLIER_GEO, packageCount: 2, estimatedDeliveryAt: '2025-06-02T12:24:00.000Z',
  },
  delivery_in_transit: {
    deliveryId: DELIVERY, orderId: ORDER, customerId: CUSTOMER, deliveryPartnerId: PARTNER, supplierId: SUPPLIER,
    currentLocation: { latitude: 52.531204, longitude: 13.405911 },
    etaAt: '2025-06-02T12:23:30.000Z', etaSeconds: 690, distanceMeters: 1860,
  },
  delivery_arrived: {
    deliveryId: DELIVERY, orderId: ORDER, customerId: CUSTOMER, deliveryPartnerId: PARTNER, supplierId: SUPPLIER,
    arrivalLocation: CUSTOMER_GEO, waitLimitSeconds: 600, dropoffInstructions: 'Ring "Weber", 3rd floor left',
  },
  delivery_completed: {
    deliveryId: DELIVERY, orderId: ORDER, customerId: CUSTOMER, deliveryPartnerId: PARTNER, supplierId: SUPPLIER,
    proofOfDelivery: 'HANDED_TO_CUSTOMER', distanceMeters: 2140, durationSeconds: 1260,
  },
  delivery_cancelled: {
    deliveryId: DELIVERY, orderId: ORDER, customerId: CUSTOMER, deliveryPartnerId: PARTNER, supplierId: SUPPLIER,
    cancelledBy: 'DELIVERY_PARTNER', reason: 'Flat tyre on the way to the restaurant', stage: 'ACCEPTED',
    reassigning: true,
  },
  order_created: {
    orderId: ORDER, customerId: CUSTOMER, supplierId: SUPPLIER,
    items: [
      { sku: 'PIZ-MARG-32', name: 'Pizza Margherita (32 cm)', quantity: 2, unitPrice: 11.5 },
      { sku: 'DES-TIRA-01', name: 'Tiramisu', quantity: 1, unitPrice: 6, notes: 'Extra cocoa' },
    ],
    subtotal: 29, deliveryFee: 2.99, tax: 2.64, amount: 31.99, currency: 'EUR',
    deliveryAddress: {
      line1: 'Kastanienallee 12', line2: '3rd floor left', city: 'Berlin', postalCode: '10435', countryCode: 'DE',
      ...CUSTOMER_GEO,
    },
    notes: 'Please bring napkins',
  },
  order_confirmed: {
    orderId: ORDER, customerId: CUSTOMER, supplierId: SUPPLIER,
    estimatedReadyAt: '2025-06-02T12:10:00.000Z', preparationMinutes: 15,
  },
  order_ready: {
    orderId: ORDER, customerId: CUSTOMER, supplierId: SUPPLIER, deliveryId: DELIVERY, deliveryPartnerId: PARTNER,
    packageCount: 2, pickupCode: 'K7Q2',
  },
  order_cancelled: {
    orderId: ORDER, customerId: CUSTOMER, supplierId: SUPPLIER, deliveryId: DELIVERY, deliveryPartnerId: PARTNER,
    cancelledBy: 'SUPPLIER', reason: 'Kitchen closed early due to a power cut', refundAmount: 31.99, currency: 'EUR',
  },
  payment_initiated: {
    paymentId: PAYMENT, orderId: ORDER, customerId: CUSTOMER, amount: 31.99, currency: 'EUR', method: 'CARD',
    provider: 'stripe', requiresAction: false,
  },
  payment_completed: {
    paymentId: PAYMENT, orderId: ORDER, customerId: CUSTOMER, supplierId: SUPPLIER, amount: 31.99, currency: 'EUR',
    method: 'CARD', provider: 'stripe', providerReference: 'ch_3PqR7sT2uV9wX1yZ', cardLast4: '4242',
  },
  payment_failed: {
    paymentId: PAYMENT, orderId: ORDER, customerId: CUSTOMER, supplierId: SUPPLIER, amount: 31.99, currency: 'EUR',
    method: 'CARD', provider: 'stripe', failureCode: 'insufficient_funds',
    failureMessage: 'Your card has insufficient funds.', retryable: false, attempt: 1,
  },
  refund_completed: {
    refundId: 'rfd_5Pm2XaD7', paymentId: PAYMENT, orderId: ORDER, customerId: CUSTOMER, supplierId: SUPPLIER,
    amount: 6, currency: 'EUR', method: 'CARD', reason: 'Tiramisu missing from the order', disputeId: DISPUTE,
    providerReference: 're_3PqR7sT2uV9wX1yZ',
  },
  location_updated: {
    deliveryPartnerId: PARTNER, deliveryId: DELIVERY, latitude: 52.534118, longitude: 13.41322, heading: 72.5,
    speedKmh: 18.4, accuracyMeters: 6.5, recordedAt: '2025-06-02T12:16:58.412Z',
  },
  eta_updated: {
    deliveryId: DELIVERY, orderId: ORDER, customerId: CUSTOMER, deliveryPartnerId: PARTNER, leg: 'TO_DROPOFF',
    etaAt: '2025-06-02T12:25:00.000Z', etaSeconds: 480, distanceMeters: 1320,
    previousEtaAt: '2025-06-02T12:23:30.000Z', delayReason: 'traffic',
  },
  dispute_created: {
    disputeId: DISPUTE, orderId: ORDER, customerId: CUSTOMER, supplierId: SUPPLIER, deliveryPartnerId: PARTNER,
    deliveryId: DELIVERY, raisedBy: 'CUSTOMER', category: 'ITEM_MISSING',
    reason: 'The tiramisu was not in the bag.', amount: 6, currency: 'EUR',
  },
  dispute_resolved: {
    disputeId: DISPUTE, orderId: ORDER, customerId: CUSTOMER, supplierId: SUPPLIER, deliveryPartnerId: PARTNER,
    outcome: 'PARTIAL_REFUND', resolution: 'Refunded the missing tiramisu to the original card.',
    resolvedBy: 'adm_0Ke4PzX1', refundAmount: 6, currency: 'EUR', atFault: 'SUPPLIER',
  },
  system_alert: {
    alertId: 'alr_webhook_backlog_sup_2Lx6JdN3', alertKind: 'webhook_backlog', severity: 'WARNING',
    component: 'webhooks.dispatcher', message: 'Webhook backlog above 5000 messages for 10 minutes',
    details: { pending: 5231, threshold: 5000, oldestAgeSeconds: 642, endpointId: 'ep_1Xy2Zw3V' },
    runbookUrl: 'https://runbooks.example.com/herald/webhook-backlog', resolved: false,
  },
  inventory_alert: {
    supplierId: SUPPLIER, sku: 'DES-TIRA-01', productName: 'Tiramisu', quantityLeft: 3, threshold: 5,
    alertKind: 'LOW_STOCK', locationId: 'loc_berlin_mitte', suggestedReorderQuantity: 24,
  },
  webhook_endpoint_disabled: {
    endpointId: 'whe_01JX4M8Q2B7ZKD3F9R6T1VWCNA', url: 'https://hooks.pizzeria.example/herald', reason: 'FAILING',
    failingSince: '2025-05-28T09:14:02.000Z', disabledAt: '2025-06-02T09:14:07.000Z',
  },
};

/**
 * A valid `data` payload for `type`, as a fresh deep copy (safe to mutate). `overrides` are shallowly merged
 * on top; they are not validated.
 * @example examplePayload('order_ready', { pickupCode: 'A1B2' })
 */
export function examplePayload(type: EventTypeName, overrides?: Record<string, unknown>): Record<string, unknown> {
  return { ...structuredClone(EXAMPLES[type]), ...overrides };
}

/** A publishable example: the type, its default level and a valid payload, addressed to nobody in particular. */
export interface ExampleEvent {
  readonly type: EventTypeName;
  readonly level: EventLevel;
  readonly data: Record<string, unknown>;
}

/** The example payload of `type` wrapped with its type and default level. */
export function exampleFor(type: EventTypeName): ExampleEvent {
  return { type, level: getSpec(type).defaultLevel, data: examplePayload(type) };
}
