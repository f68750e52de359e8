/**
 * The demo's marketplace story: one customer orders twice from a Berlin pizzeria (one payment goes through, one
 * fails), a courier accepts the first order, rides the route with location and ETA updates, delivers and is paid,
 * the pizzeria runs low on an item, and the platform raises an alert. Every fact is published once per party that
 * should see it (an event has one `userId`), typed by @herald/sdk's `PayloadMap`, so a wrong field fails to compile.
 * Times are seconds from the start (about a minute in all); the runner scales them.
 */
import type { EventTypeName, PayloadMap, PublishItem, PublishOptions } from '../../clients/sdk/src/index.js';

export interface DemoUsers {
  readonly customer: string;
  readonly partner: string;
  readonly supplier: string;
  readonly admin: string;
}

/** One moment of the story: what is published then, by which service, and a line for the terminal. */
export interface DemoStep {
  readonly at: number;
  readonly source: string;
  readonly say: string;
  readonly items: readonly PublishItem[];
}

/** The same fact for each recipient. */
function to<T extends EventTypeName>(type: T, payload: PayloadMap[T], userIds: readonly string[], options: PublishOptions = {}): PublishItem[] {
  return userIds.map((userId) => ({ ...options, type, payload, userId }) as PublishItem);
}

/** From the pizzeria (Mitte) to the customer (Prenzlauer Berg). */
const ROUTE = [
  { latitude: 52.529801, longitude: 13.401502 },
  { latitude: 52.530712, longitude: 13.40466 },
  { latitude: 52.531204, longitude: 13.405911 },
  { latitude: 52.532406, longitude: 13.409004 },
  { latitude: 52.533512, longitude: 13.411983 },
  { latitude: 52.534118, longitude: 13.41322 },
  { latitude: 52.535402, longitude: 13.416713 },
  { latitude: 52.536631, longitude: 13.419806 },
  { latitude: 52.537702, longitude: 13.422421 },
  { latitude: 52.538412, longitude: 13.424187 },
] as const;

/**
 * The story for these users. `run` makes the ids of this run unique (orders, deliveries), so a second run tells a
 * new story instead of being answered from the first one's idempotency keys; `start` (ms) anchors its clock times.
 */
export function demoStory(users: DemoUsers, run: string, start: number): DemoStep[] {
  const { customer, partner, supplier } = users;
  const iso = (secondsFromStart: number) => new Date(start + secondsFromStart * 1000).toISOString();
  const order = `ord_${run}_1`;
  const order2 = `ord_${run}_2`;
  const delivery = `dlv_${run}_1`;
  const parties = [customer, supplier];
  const trio = [customer, partner, supplier];
  const tracked = [customer, partner];
  const ids = { deliveryId: delivery, orderId: order, customerId: customer, deliveryPartnerId: partner, supplierId: supplier };
  const address = { line1: 'Kastanienallee 12', line2: '3rd floor left', city: 'Berlin', postalCode: '10435', countryCode: 'DE', ...ROUTE[ROUTE.length - 1]! };

  const steps: DemoStep[] = [
    {
      at: 0,
      source: 'orders-service',
      say: `${customer} orders two pizzas and a tiramisu (${order})`,
      items: to('ORDER_CREATED', {
        orderId: order, customerId: customer, supplierId: supplier,
        items: [
          { sku: 'PIZ-MARG-32', name: 'Pizza Margherita (32 cm)', quantity: 2, unitPrice: 11.5 },
          { sku: 'DES-TIRA-01', name: 'Tiramisu', quantity: 1, unitPrice: 6, notes: 'Extra cocoa' },
        ],
        subtotal: 29, deliveryFee: 2.99, tax: 2.64, amount: 31.99, currency: 'EUR', deliveryAddress: address,
        notes: 'Please bring napkins',
      }, parties),
    },
    {
      at: 3,
      source: 'payments-service',
      say: 'the card payment goes through',
      items: to('PAYMENT_COMPLETED', {
        paymentId: `pay_${run}_1`, orderId: order, customerId: customer, supplierId: supplier, amount: 31.99, currency: 'EUR',
        method: 'CARD', provider: 'stripe', providerReference: `ch_${run}_1`, cardLast4: '4242',
      }, parties),
    },
    {
      at: 6,
      source: 'orders-service',
      say: `${supplier} confirms: ready in 12 minutes`,
      items: to('ORDER_CONFIRMED', { orderId: order, customerId: customer, supplierId: supplier, estimatedReadyAt: iso(18), preparationMinutes: 12 }, parties),
    },
    {
      at: 9,
      source: 'orders-service',
      say: `${customer} adds a second order (${order2})`,
      items: to('ORDER_CREATED', {
        orderId: order2, customerId: customer, supplierId: supplier,
        items: [{ sku: 'DRK-LIMO-33', name: 'Lemonade (0.33 l)', quantity: 4, unitPrice: 2.8 }],
        subtotal: 11.2, deliveryFee: 2.99, tax: 1.1, amount: 14.19, currency: 'EUR', deliveryAddress: address,
      }, parties),
    },
    {
      at: 12,
      source: 'payments-service',
      say: 'its payment fails: insufficient funds (CRITICAL)',
      items: to('PAYMENT_FAILED', {
        paymentId: `pay_${run}_2`, orderId: order2, customerId: customer, supplierId: supplier, amount: 14.19, currency: 'EUR',
        method: 'CARD', provider: 'stripe', failureCode: 'insufficient_funds', failureMessage: 'Your card has insufficient funds.',
        retryable: false, attempt: 1,
      }, parties),
    },
    {
      at: 15,
      source: 'dispatch-service',
      say: `courier ${partner} accepts delivery ${delivery}`,
      items: to('DELIVERY_ACCEPTED', { ...ids, vehicleType: 'BICYCLE', deliveryPartnerName: 'Jonas K.', estimatedPickupAt: iso(21), estimatedDeliveryAt: iso(50) }, trio),
    },
    {
      at: 18,
      source: 'orders-service',
      say: 'the order is packed and ready for pick-up',
      items: to('ORDER_READY', { orderId: order, customerId: customer, supplierId: supplier, deliveryId: delivery, deliveryPartnerId: partner, packageCount: 2, pickupCode: 'K7Q2' }, trio),
    },
    {
      at: 21,
      source: 'dispatch-service',
      say: 'the courier picks it up',
      items: to('DELIVERY_PICKED_UP', { ...ids, pickupLocation: ROUTE[0], packageCount: 2, estimatedDeliveryAt: iso(50) }, trio),
    },
    {
      at: 24,
      source: 'inventory-service',
      say: `${supplier} is running low on tiramisu`,
      items: to('INVENTORY_ALERT', {
        supplierId: supplier, sku: 'DES-TIRA-01', productName: 'Tiramisu', quantityLeft: 3, threshold: 5, alertKind: 'LOW_STOCK',
        locationId: 'loc_berlin_mitte', suggestedReorderQuantity: 24,
      }, [supplier]),
    },
  ];

  // The ride: a position every 2.5 s, an ETA every other one, "in transit" once under way.
  const legs = ROUTE.length - 1;
  for (let i = 1; i <= legs; i++) {
    const at = 24 + i * 2.5;
    const left = legs - i;
    const etaSeconds = Math.max(30, left * 95);
    const items = to('LOCATION_UPDATED', {
      deliveryPartnerId: partner, deliveryId: delivery, ...ROUTE[i]!, heading: 62, speedKmh: 17 + (i % 3), accuracyMeters: 5, recordedAt: iso(at),
    }, tracked);
    if (i % 2 === 0 || i === 1) {
      items.push(...to('ETA_UPDATED', {
        deliveryId: delivery, orderId: order, customerId: customer, deliveryPartnerId: partner, leg: 'TO_DROPOFF',
        etaAt: iso(at + etaSeconds / 20), etaSeconds, distanceMeters: left * 240, previousEtaAt: iso(50),
      }, [customer, partner, supplier]));
    }
    if (i === 2) {
      items.push(...to('DELIVERY_IN_TRANSIT', { ...ids, currentLocation: ROUTE[i]!, etaAt: iso(50), etaSeconds, distanceMeters: left * 240 }, trio));
    }
    steps.push({ at, source: 'location-service', say: `courier at ${ROUTE[i]!.latitude.toFixed(4)}, ${ROUTE[i]!.longitude.toFixed(4)}, ETA ${etaSeconds} s`, items });
  }

  steps.push(
    {
      at: 49,
      source: 'dispatch-service',
      say: 'the courier arrives',
      items: to('DELIVERY_ARRIVED', { ...ids, arrivalLocation: ROUTE[ROUTE.length - 1]!, waitLimitSeconds: 600, dropoffInstructions: 'Ring "Weber", 3rd floor left' }, trio),
    },
    {
      at: 52,
      source: 'dispatch-service',
      say: 'delivered, handed to the customer',
      items: to('DELIVERY_COMPLETED', { ...ids, proofOfDelivery: 'HANDED_TO_CUSTOMER', distanceMeters: 2140, durationSeconds: 37 }, trio),
    },
    {
      at: 54,
      source: 'earnings-service',
      say: `${partner} earns 7.10 EUR for the ride`,
      items: to('EARNING_RECORDED', {
        earningId: `ern_${run}_1`, deliveryPartnerId: partner, deliveryId: delivery, orderId: order, amount: 7.1, currency: 'EUR', distanceMeters: 2140,
        breakdown: { baseFare: 2.5, distanceFare: 1.85, waitTimeFare: 0, tip: 2, surge: 0.75, adjustment: 0 },
      }, [partner]),
    },
    {
      at: 57,
      source: 'monitoring',
      say: 'the platform raises a system alert (admins only)',
      items: [
        {
          type: 'SYSTEM_ALERT',
          roles: ['ADMIN'],
          payload: {
            alertId: `alr_${run}_payments_latency`, alertKind: 'provider_latency', severity: 'WARNING', component: 'payments.stripe',
            message: 'Card payment latency p95 above 2 s for 5 minutes', details: { p95Ms: 2430, thresholdMs: 2000 },
            runbookUrl: 'https://runbooks.example.com/payments/latency', resolved: false,
          },
        },
      ],
    },
  );
  return steps;
}
