// README example "Node subscriber" (type-checked by `npm run typecheck`; keep the two in step).
import WebSocket from 'ws';
import { createHeraldClient } from '../../../clients/sdk/src/index.js';

const client = createHeraldClient({
  url: 'http://127.0.0.1:4000/graphql',
  webSocketImpl: WebSocket, // Node 20 has no global WebSocket
  getToken: async () => process.env['HERALD_TOKEN']!, // asked before every (re)connect
});

client.on(['PAYMENT_FAILED', 'PAYMENT_COMPLETED'], (event) => {
  if (event.type === 'PAYMENT_FAILED') console.log(`payment ${event.paymentId} failed: ${event.failureMessage}`);
  else console.log(`payment ${event.paymentId} captured: ${event.amount} ${event.currency}`);
});

client.onStatus((s) => console.log(`[herald] ${s.state} via ${s.transport ?? '-'} (cursor ${s.lastCursor ?? 'none'})`));
process.on('SIGINT', () => client.close());
