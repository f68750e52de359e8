/**
 * Compile-time checks of the SDK's typing, compiled by test/clients/types.test.ts (and `npm run typecheck`):
 * every `@ts-expect-error` below must meet an error, or tsc fails with "Unused '@ts-expect-error' directive" —
 * so if a wrong payload field ever compiles, the test fails. Never run.
 */
import type { HeraldClient, HeraldPublisher } from '../../../clients/sdk/src/index.js';

declare const publisher: HeraldPublisher;
declare const client: HeraldClient;

const confirmed = {
  orderId: 'ord_1',
  customerId: 'cus_1',
  supplierId: 'sup_1',
  estimatedReadyAt: '2025-06-02T12:10:00.000Z',
  preparationMinutes: 15,
};

export async function publishing(): Promise<void> {
  const event = await publisher.publish('ORDER_CONFIRMED', confirmed, { userId: 'cus_1', roles: ['CUSTOMER'], level: 'HIGH', idempotencyKey: 'orders:ord_1:confirmed' });
  const type: 'ORDER_CONFIRMED' = event.type;
  void type;

  // @ts-expect-error `prepMinutes` is not a field of ORDER_CONFIRMED (it is `preparationMinutes`)
  await publisher.publish('ORDER_CONFIRMED', { orderId: 'ord_1', customerId: 'cus_1', supplierId: 'sup_1', estimatedReadyAt: '2025-06-02T12:10:00.000Z', prepMinutes: 15 });

  // @ts-expect-error `preparationMinutes` is an Int, not a string
  await publisher.publish('ORDER_CONFIRMED', { ...confirmed, preparationMinutes: '15' });

  // @ts-expect-error a required field (`supplierId`) is missing
  await publisher.publish('ORDER_CONFIRMED', { orderId: 'ord_1', customerId: 'cus_1', estimatedReadyAt: '2025-06-02T12:10:00.000Z', preparationMinutes: 15 });

  // @ts-expect-error ORDER_CONFIRMED's payload is not ORDER_READY's
  await publisher.publish('ORDER_READY', confirmed);

  // @ts-expect-error not an event type
  await publisher.publish('ORDER_TELEPORTED', confirmed);

  // @ts-expect-error not a role
  await publisher.publish('ORDER_CONFIRMED', confirmed, { roles: ['SUPERUSER'] });

  await publisher.publishMany([
    { type: 'ORDER_CONFIRMED', payload: confirmed, userId: 'cus_1' },
    // @ts-expect-error each item's payload is checked against its own type
    { type: 'ORDER_CONFIRMED', payload: { ...confirmed, courierName: 'Kim' } },
  ]);
}

export function subscribing(): void {
  client.on('ORDER_CREATED', (event) => {
    const amount: number = event.amount;
    const city: string = event.deliveryAddress.city;
    void [amount, city];
    // @ts-expect-error an ORDER_CREATED event has no `sku`
    void event.sku;
  });
  client.on(['ORDER_CREATED', 'INVENTORY_ALERT'], (event) => {
    if (event.type === 'INVENTORY_ALERT') {
      const left: number = event.quantityLeft;
      void left;
    } else {
      const order: string = event.orderId;
      void order;
    }
  });
  client.on('*', (event) => {
    switch (event.__typename) {
      case 'PaymentFailedEvent':
        void event.failureCode;
        break;
      default:
        void event.cursor;
    }
  });
  // @ts-expect-error deliveryTracking needs a deliveryId
  client.on('deliveryTracking', () => {});
  // @ts-expect-error not an event type
  client.on('ORDER_TELEPORTED', () => {});
}
