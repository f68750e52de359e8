// README example "A service publishing" (type-checked by `npm run typecheck`; keep the two in step).
import { createHeraldPublisher, HeraldError } from '../../../clients/sdk/src/index.js';

const herald = createHeraldPublisher({
  url: 'http://herald.internal:4000/graphql',
  token: process.env['HERALD_SERVICE_TOKEN']!, // role: service
  source: 'orders-service',
});

export async function orderConfirmed(orderId: string, customerId: string, supplierId: string, readyAt: Date) {
  try {
    await herald.publish(
      'ORDER_CONFIRMED',
      { orderId, customerId, supplierId, estimatedReadyAt: readyAt.toISOString(), preparationMinutes: 15 },
      { userId: customerId, idempotencyKey: `orders:${orderId}:confirmed` }, // retried safely: logged once
    );
  } catch (error) {
    if (error instanceof HeraldError && error.code === 'BAD_USER_INPUT') console.error(`invalid ${error.field}: ${error.message}`);
    throw error;
  }
}

export async function lowStock(supplierId: string, items: Array<{ sku: string; name: string; left: number }>) {
  // One call per 1000 events (the hub's limit), in order.
  await herald.publishMany(
    items.map((item) => ({
      type: 'INVENTORY_ALERT' as const,
      payload: { supplierId, sku: item.sku, productName: item.name, quantityLeft: item.left, threshold: 10, alertKind: 'LOW_STOCK' as const },
      userId: supplierId,
    })),
  );
}
