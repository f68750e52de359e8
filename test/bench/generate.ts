/**
 * Deterministic benchmark data: a realistic mix of event types (location and ETA updates dominate, failures
 * are rare), ~50k users split into customers, couriers and suppliers, sources by domain, timestamps spread
 * evenly over a window. Payloads are the catalogue's valid examples with per-event ids.
 */
import { EVENT_TYPES, getSpec, type EventTypeName, type Role } from '../../src/events/catalogue.js';
import { examplePayload } from '../../src/events/examples.js';
import type { PublishInput } from '../../src/events/publish.js';

/** Relative frequency per type; unlisted types get 0.2. */
const WEIGHTS: Partial<Record<EventTypeName, number>> = {
  location_updated: 30, eta_updated: 10,
  delivery_accepted: 4, delivery_picked_up: 4, delivery_in_transit: 4, delivery_arrived: 4, delivery_completed: 4, delivery_cancelled: 0.5,
  order_created: 5, order_confirmed: 4.5, order_ready: 4.5, order_cancelled: 0.5,
  payment_initiated: 5, payment_completed: 4.6, payment_failed: 0.4, refund_completed: 0.3,
  earning_recorded: 4, bonus_earned: 0.5, payout_approved: 0.2, payout_completed: 0.2, wallet_updated: 2,
  dispute_created: 0.2, dispute_resolved: 0.15, system_alert: 0.05, inventory_alert: 0.5,
};

const SOURCE_OF: Record<string, string> = {
  earnings: 'earnings-service', delivery: 'dispatch-service', order: 'orders-service', payment: 'payments-service',
  location: 'location-service', admin: 'support-service', supplier: 'inventory-service',
};

export interface GeneratorOptions {
  /** @default 50000 */
  readonly users?: number;
  /** @default 42 */
  readonly seed?: number;
}

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface EventGenerator {
  /** The next publish input. */
  next(): PublishInput;
  /** A user id that certainly has events (for timeline/heatmap queries). */
  user(i: number): string;
}

export function createEventGenerator(options: GeneratorOptions = {}): EventGenerator {
  const users = options.users ?? 50_000;
  const random = prng(options.seed ?? 42);
  const pools: Record<string, { prefix: string; size: number }> = {
    customer: { prefix: 'cus', size: Math.round(users * 0.8) },
    delivery_partner: { prefix: 'dp', size: Math.round(users * 0.16) },
    supplier: { prefix: 'sup', size: Math.max(1, users - Math.round(users * 0.8) - Math.round(users * 0.16)) },
  };
  const types = EVENT_TYPES.map((type) => ({ type, weight: WEIGHTS[type] ?? 0.2 }));
  const totalWeight = types.reduce((s, t) => s + t.weight, 0);
  const cumulative: { type: EventTypeName; upTo: number }[] = [];
  let acc = 0;
  for (const t of types) cumulative.push({ type: t.type, upTo: (acc += t.weight) / totalWeight });
  const pickType = () => {
    const r = random();
    return (cumulative.find((c) => r < c.upTo) ?? cumulative[cumulative.length - 1]!).type;
  };
  const userOf = (role: string) => {
    const pool = pools[role]!;
    // Zipf-ish: a few users are far busier than most.
    const n = Math.floor(pool.size * random() ** 2);
    return `${pool.prefix}_${n}`;
  };
  const payloads = new Map(EVENT_TYPES.map((type) => [type, examplePayload(type)]));
  let counter = 0;
  // A delivery's ~15 events (status, location, ETA) happen within its lifetime, spread over ~1000 events of
  // the whole stream; ids look random, like the catalogue's examples (`dlv_3Hm8ZpL1`).
  const EVENTS_PER_DELIVERY = 15;
  const LIFETIME_EVENTS = 1000;
  const opaque = (prefix: string, n: number) => `${prefix}_${(Math.imul(n + 1, 2654435761) >>> 0).toString(36).padStart(7, '0')}${(n % 36).toString(36)}`;

  return {
    next() {
      counter++;
      const type = pickType();
      const spec = getSpec(type);
      const role = spec.audience[0] as Role | undefined;
      const userId = role ? userOf(role) : null;
      const data: Record<string, unknown> = { ...payloads.get(type)! };
      const delivery = Math.max(0, Math.floor((counter - Math.floor(random() * LIFETIME_EVENTS)) / EVENTS_PER_DELIVERY));
      if ('deliveryId' in data) data['deliveryId'] = opaque('dlv', delivery);
      if ('orderId' in data) data['orderId'] = opaque('ord', delivery);
      if ('customerId' in data && role === 'customer') data['customerId'] = userId;
      return { type, userId, source: SOURCE_OF[spec.domain] ?? 'monitor', data };
    },
    user: (i) => `cus_${i}`,
  };
}
