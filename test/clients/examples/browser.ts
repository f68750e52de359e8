// README example "Browser (TypeScript)" (type-checked by `npm run typecheck`; keep the two in step).
import { createHeraldClient, type HeraldEvent } from '../../../clients/sdk/src/index.js';

declare function refreshAccessToken(): Promise<string>; // your app's auth
declare function showToast(text: string): void;

const client = createHeraldClient({
  url: `${location.origin}/graphql`,
  getToken: refreshAccessToken,
  storage: localStorage, // a reloaded tab resumes from its last cursor
  onGap: () => showToast('Some notifications are too old to replay; reloading history'),
});

const off = client.on('*', (event: HeraldEvent) => {
  switch (event.type) {
    case 'ORDER_CONFIRMED':
      showToast(`Order ${event.orderId} confirmed, ready in ${event.preparationMinutes} min`);
      break;
    case 'DELIVERY_ARRIVED':
      showToast('Your courier has arrived');
      break;
    default:
      showToast(event.type);
  }
});

client.on('deliveryTracking', (event) => {
  if (event.type === 'LOCATION_UPDATED') console.log(event.latitude, event.longitude);
  if (event.type === 'ETA_UPDATED') console.log(`arrives in ${Math.round(event.etaSeconds / 60)} min`);
}, { deliveryId: 'dlv_3Hm8ZpL1' });

const indicator = document.querySelector('#connection')!;
client.onStatus((s) => {
  indicator.textContent = s.state === 'connected' ? (s.fallback ? 'live (SSE fallback)' : 'live') : s.state;
});

export { off };
