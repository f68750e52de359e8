/**
 * The fan-out benchmark's baseline: the least a Node server can do to push one event to many sockets, so Herald's
 * figures can be read as a fraction of what this machine allows. Forked by test/bench/fanout.ts with an IPC channel;
 * listens on 127.0.0.1 and sends `{ url }`.
 *
 * - `GET /ws?u=<user>&r=<role>` upgrades to a plain `ws` WebSocket (no subprotocol, no handshake, no keep-alive);
 *   `POST /sse?u=<user>&r=<role>` opens a `text/event-stream` response (`:` comment first, as Herald does).
 * - `POST /publish` with `{"orderId": "...", "userId": null | "cus_1"}` (or `"orderIds": [...]`, one event each) serializes one event once, in the shape and
 *   size of Herald's `next` frame for an order_created (graphql-ws frame for WebSocket, `id:/event:/data:` for SSE),
 *   and writes the same bytes to every socket (`userId` null) or to that user's sockets and the admins', then answers
 *   `{"ok":true}`.
 * - IPC `connections` -> `{ ws, sse }` open counts; `mem` and the RSS ticks come from server-probe.ts.
 */
import { createServer, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { answerProbes } from './server-probe.js';

interface Peer {
  readonly user: string;
  readonly admin: boolean;
  readonly sse: boolean;
  write(frame: { ws: Buffer; sse: Buffer }): void;
}

const all = new Set<Peer>();
const admins = new Set<Peer>();
const byUser = new Map<string, Set<Peer>>();

function register(peer: Peer): () => void {
  all.add(peer);
  if (peer.admin) admins.add(peer);
  else {
    let set = byUser.get(peer.user);
    if (!set) byUser.set(peer.user, (set = new Set()));
    set.add(peer);
  }
  return () => {
    all.delete(peer);
    admins.delete(peer);
    const set = byUser.get(peer.user);
    if (set?.delete(peer) && set.size === 0) byUser.delete(peer.user);
  };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const eventId = () => `evt_${Array.from(randomBytes(26), (b) => CROCKFORD[b & 31]).join('')}`;

let seq = 0;
/** One event, serialized once per transport. */
function frames(orderId: string, userId: string | null): { ws: Buffer; sse: Buffer } {
  seq++;
  const event = JSON.stringify({
    __typename: 'OrderCreatedEvent', id: eventId(), type: 'ORDER_CREATED', level: 'MEDIUM', userId,
    timestamp: new Date().toISOString(), cursor: String(seq), orderId, amount: 31.99, currency: 'EUR',
  });
  return {
    ws: Buffer.from(`{"id":"1","type":"next","payload":{"data":{"events":${event}}}}`),
    sse: Buffer.from(`id: ${seq}\nevent: next\ndata: {"data":{"events":${event}}}\n\n`),
  };
}

const params = (url: string) => new URL(url, 'http://raw').searchParams;

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url?.startsWith('/sse')) {
    const q = params(req.url);
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(':\n\n');
    const unregister = register({ user: q.get('u') ?? '', admin: q.get('r') === 'admin', sse: true, write: (f) => res.write(f.sse) });
    res.once('close', unregister);
    return;
  }
  if (req.method === 'POST' && req.url === '/publish') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { orderId?: string; orderIds?: string[]; userId: string | null };
      const orderIds = body.orderIds ?? [body.orderId!];
      for (const orderId of orderIds) {
        const f = frames(orderId, body.userId);
        if (body.userId === null) for (const peer of all) peer.write(f);
        else {
          for (const peer of byUser.get(body.userId) ?? []) peer.write(f);
          for (const peer of admins) peer.write(f);
        }
      }
      answer(res, 200, `{"ok":true,"count":${orderIds.length}}`);
    });
    return;
  }
  answer(res, 404, '{"ok":false}');
});

function answer(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  if (!req.url?.startsWith('/ws')) return socket.destroy();
  const q = params(req.url);
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    const unregister = register({ user: q.get('u') ?? '', admin: q.get('r') === 'admin', sse: false, write: (f) => ws.send(f.ws, { binary: false }) });
    ws.once('close', unregister);
    ws.on('error', () => ws.terminate());
  });
});
server.keepAliveTimeout = 60_000;
server.maxConnections = Infinity;

answerProbes({
  tickMs: Number(process.env['BENCH_RSS_TICK_MS'] ?? 100),
  extra: (request) => {
    if (request.cmd !== 'connections') return undefined;
    let sse = 0;
    for (const peer of all) if (peer.sse) sse++;
    return { ws: all.size - sse, sse };
  },
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send?.({ url: `http://127.0.0.1:${port}` });
});
