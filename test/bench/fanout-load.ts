/**
 * The receiving side of the fan-out benchmark, forked by test/bench/fanout.ts (one or two of them): opens the
 * connections it is told to, keeps them subscribed, and for each event records publish -> receipt latency from the
 * send time carried in `data.orderId` (see fanout-shared.ts). Receipt is recognized by scanning the raw bytes for
 * the order id, the same work for Herald's frames and the baseline's, so the load side costs both servers alike.
 *
 * Herald over WebSocket: subprotocol `graphql-transport-ws` by hand with `ws` (connection_init with the bearer
 * token, connection_ack, subscribe; protocol pings answered with pongs, WebSocket pings by `ws` itself).
 * Herald over SSE: `POST /graphql` with `Accept: text/event-stream` and `Authorization: Bearer`.
 * The baseline: `ws://…/ws?u=&r=` and `POST /sse?u=&r=`, no handshake.
 *
 * IPC requests (answers carry the request id): `connect`, `stall`, `phase` (start counting a new phase), `count`,
 * `stats`, `warm` (connections that saw a warm-up event), `close`.
 */
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { answerRequests, decodeOrderId, Histogram, ORDER_ID_KEY, SUBSCRIPTION_QUERY, wallNow, type IpcRequest } from './fanout-shared.js';

export type ServerKind = 'herald' | 'raw';
export type Transport = 'ws' | 'sse';

export interface ConnectRequest extends IpcRequest {
  readonly cmd: 'connect' | 'stall';
  readonly server: ServerKind;
  readonly transport: Transport;
  /** `http://127.0.0.1:port` */
  readonly origin: string;
  /** HS256 secret to mint the tokens with (Herald). */
  readonly secret: string;
  /** Customers `cus_<from>` … `cus_<to - 1>`. */
  readonly from: number;
  readonly to: number;
  /** Admins `adm_bench_<i>` for i < admins. */
  readonly admins: number;
  /** Handshakes in flight at once. @default 256 */
  readonly concurrency?: number;
  /** Give up on the connections not open after this long. @default 120000 */
  readonly timeoutMs?: number;
}

export interface ConnectAnswer {
  readonly connected: number;
  readonly failed: number;
  readonly errors: string[];
  readonly ms: number;
}

export interface LoadStats {
  /** Deliveries of the current phase. */
  readonly received: number;
  /** Distinct events of the current phase that reached at least one connection of this process. */
  readonly seen: number;
  /** Deliveries of earlier phases that arrived during this one. */
  readonly stale: number;
  readonly histogram: ReturnType<Histogram['toJSON']>;
  readonly firstAt: number;
  readonly lastAt: number;
  /** Connections open now, and how many of those received nothing / the fewest and most events this phase. */
  readonly open: number;
  readonly silent: number;
  readonly minPerConnection: number;
  readonly maxPerConnection: number;
  /** Closes during the phase by code (`sse-end` for SSE), and subscriptions ended by `error`/`complete`. */
  readonly closes: Record<string, number>;
  readonly ended: number;
  readonly errorSample?: string;
  /** Size of one received event frame (WebSocket message; SSE: bytes per event over the phase). */
  readonly frameBytes: number;
  /** This process's CPU time during the phase, ms. */
  readonly cpuMs: number;
}

interface Connection {
  readonly customer: boolean;
  count: number;
  warm: boolean;
  open: boolean;
  stalled: boolean;
  /** SSE: bytes kept from the previous chunk, in case an order id was split. */
  carry?: Buffer;
  close(): void;
}

const connections: Connection[] = [];
let phase = -1;
let histogram = new Histogram();
let received = 0;
let seenBits = new Uint8Array(1024);
let seen = 0;
let stale = 0;
let firstAt = 0;
let lastAt = 0;
let closes: Record<string, number> = {};
let ended = 0;
let errorSample: string | undefined;
let wsFrameBytes = 0;
let sseBytes = 0;
let cpuAtPhase = process.cpuUsage();

const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
const CLOSE_QUOTE = 0x22;

function onOrderId(conn: Connection, text: string) {
  if (conn.stalled) return;
  const decoded = decodeOrderId(text);
  if (!decoded) return;
  if (decoded.phase === 0) {
    conn.warm = true;
    return;
  }
  if (decoded.phase !== phase) {
    stale++;
    return;
  }
  const at = wallNow();
  histogram.record(at - decoded.sentAt);
  if (decoded.seq >= seenBits.length && decoded.seq < 1 << 24) {
    const grown = new Uint8Array(Math.max(decoded.seq + 1, seenBits.length * 2));
    grown.set(seenBits);
    seenBits = grown;
  }
  if (seenBits[decoded.seq] === 0) {
    seenBits[decoded.seq] = 1;
    seen++;
  }
  conn.count++;
  received++;
  if (firstAt === 0) firstAt = at;
  lastAt = at;
}

/** Scans `chunk` (plus the carried tail) for order ids; keeps a possibly split one for the next chunk. */
function scan(conn: Connection, chunk: Buffer) {
  const buf = conn.carry ? Buffer.concat([conn.carry, chunk]) : chunk;
  conn.carry = undefined;
  let pos = 0;
  for (;;) {
    const i = buf.indexOf(ORDER_ID_KEY, pos);
    if (i < 0) break;
    const start = i + ORDER_ID_KEY.length;
    const end = buf.indexOf(CLOSE_QUOTE, start);
    if (end < 0) {
      conn.carry = Buffer.from(buf.subarray(i));
      return;
    }
    onOrderId(conn, buf.toString('latin1', start, end));
    pos = end + 1;
  }
  const tail = Math.max(pos, buf.length - ORDER_ID_KEY.length + 1);
  if (tail < buf.length) conn.carry = Buffer.from(buf.subarray(tail));
}

const noteError = (message: string) => {
  errorSample ??= message.slice(0, 300);
};
const noteClose = (code: string) => {
  closes[code] = (closes[code] ?? 0) + 1;
};

const tokenFor = (secret: string, sub: string, role: string) => jwt.sign({ sub, role }, secret, { algorithm: 'HS256', expiresIn: '2h' });

function openWs(spec: ConnectRequest, user: string, role: string, stall: boolean): Promise<Connection> {
  const wsOrigin = spec.origin.replace(/^http/, 'ws');
  const herald = spec.server === 'herald';
  const ws = herald
    ? new WebSocket(`${wsOrigin}/graphql`, 'graphql-transport-ws', { perMessageDeflate: false, agent })
    : new WebSocket(`${wsOrigin}/ws?u=${user}&r=${role}`, { perMessageDeflate: false, agent });
  const conn: Connection = { customer: role === 'customer', count: 0, warm: false, open: false, stalled: stall, close: () => ws.terminate() };
  return new Promise<Connection>((resolve, reject) => {
    const subscribed = () => {
      conn.open = true;
      if (stall) ws.pause(); // stops reading: the server's writes pile up in its buffers
      resolve(conn);
    };
    ws.on('open', () => {
      if (!herald) return subscribed();
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${tokenFor(spec.secret, user, role)}` } }));
    });
    ws.on('message', (data: Buffer) => {
      const i = data.indexOf(ORDER_ID_KEY);
      if (i >= 0) {
        const start = i + ORDER_ID_KEY.length;
        wsFrameBytes ||= data.length;
        onOrderId(conn, data.toString('latin1', start, data.indexOf(CLOSE_QUOTE, start)));
        return;
      }
      let message: { type?: string; payload?: unknown };
      try {
        message = JSON.parse(data.toString()) as typeof message;
      } catch {
        return noteError(`unparsable frame: ${data.toString().slice(0, 100)}`);
      }
      switch (message.type) {
        case 'connection_ack':
          ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION_QUERY } }));
          return subscribed();
        case 'ping':
          return ws.send('{"type":"pong"}');
        case 'error':
        case 'complete':
          ended++;
          return noteError(`${message.type}: ${JSON.stringify(message.payload ?? null)}`);
        case 'next':
          return noteError(`next without an order id: ${data.toString().slice(0, 200)}`);
      }
    });
    ws.on('close', (code, why) => {
      if (conn.open) noteClose(String(code));
      conn.open = false;
      reject(new Error(`closed ${code} ${why.toString()}`));
    });
    ws.on('error', (error) => {
      if (!conn.open) reject(error);
    });
  });
}

function openSse(spec: ConnectRequest, user: string, role: string, stall: boolean): Promise<Connection> {
  const herald = spec.server === 'herald';
  const url = new URL(herald ? '/graphql' : `/sse?u=${user}&r=${role}`, spec.origin);
  const body = JSON.stringify({ query: SUBSCRIPTION_QUERY });
  let req: ClientRequest | undefined;
  const conn: Connection = { customer: role === 'customer', count: 0, warm: false, open: false, stalled: stall, close: () => req?.destroy() };
  return new Promise<Connection>((resolve, reject) => {
    req = httpRequest(
      {
        host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', agent,
        headers: {
          accept: 'text/event-stream', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
          ...(herald ? { authorization: `Bearer ${tokenFor(spec.secret, user, role)}` } : {}),
        },
      },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`)));
          return;
        }
        conn.open = true;
        if (stall) {
          res.pause();
          res.socket.pause();
        }
        res.on('data', (chunk: Buffer) => {
          sseBytes += chunk.length;
          scan(conn, chunk);
        });
        res.on('close', () => {
          if (conn.open) noteClose('sse-end');
          conn.open = false;
        });
        resolve(conn);
      },
    );
    req.on('error', (error) => {
      if (conn.open) noteClose('sse-error');
      conn.open = false;
      reject(error);
    });
    req.end(body);
  });
}

/** Opens the connections of `spec`, `concurrency` handshakes at a time, for at most `timeoutMs`. */
async function connect(spec: ConnectRequest, stall = false): Promise<ConnectAnswer> {
  const started = Date.now();
  const deadline = started + (spec.timeoutMs ?? 120_000);
  const users: { user: string; role: string }[] = [];
  for (let i = spec.from; i < spec.to; i++) users.push({ user: stall ? `cus_stalled_${i}` : `cus_${i}`, role: 'customer' });
  for (let i = 0; i < spec.admins; i++) users.push({ user: `adm_bench_${i}`, role: 'admin' });
  let next = 0;
  let connected = 0;
  let failed = 0;
  const errors = new Map<string, number>();
  const open = spec.transport === 'ws' ? openWs : openSse;
  const worker = async () => {
    while (next < users.length && Date.now() < deadline) {
      const { user, role } = users[next++]!;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const conn = await Promise.race([
          open(spec, user, role, stall),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('handshake timed out')), Math.max(1, deadline - Date.now())))),
        ]);
        connections.push(conn);
        connected++;
      } catch (error) {
        failed++;
        const key = (error as Error).message.slice(0, 160);
        errors.set(key, (errors.get(key) ?? 0) + 1);
      } finally {
        clearTimeout(timer);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(spec.concurrency ?? 256, users.length) }, worker));
  failed += users.length - connected - failed; // never attempted before the deadline
  return { connected, failed, errors: [...errors].map(([m, n]) => `${n}x ${m}`), ms: Date.now() - started };
}

function stats(): LoadStats {
  let open = 0;
  let silent = 0;
  let min = Infinity;
  let max = 0;
  for (const c of connections) {
    if (!c.open || c.stalled) continue;
    open++;
    if (c.count === 0) silent++;
    if (c.count < min) min = c.count;
    if (c.count > max) max = c.count;
  }
  const cpu = process.cpuUsage(cpuAtPhase);
  return {
    received, seen, stale, histogram: histogram.toJSON(), firstAt, lastAt, open, silent,
    minPerConnection: open ? min : 0, maxPerConnection: max, closes, ended, errorSample,
    frameBytes: wsFrameBytes || (received ? Math.round(sseBytes / received) : 0), cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

answerRequests(async (request) => {
  switch (request.cmd) {
    case 'connect':
      return { ...(await connect(request as ConnectRequest)) };
    case 'stall':
      return { ...(await connect(request as ConnectRequest, true)) };
    case 'phase':
      phase = request['phase'] as number;
      histogram = new Histogram();
      received = seen = stale = ended = sseBytes = 0;
      seenBits = new Uint8Array(1024);
      firstAt = lastAt = 0;
      closes = {};
      errorSample = undefined;
      cpuAtPhase = process.cpuUsage();
      for (const c of connections) c.count = 0;
      return { ok: true };
    case 'count':
      return { received, seen, lastAt };
    case 'stats':
      return { stats: stats() };
    case 'warm': {
      let warm = 0;
      let open = 0;
      for (const c of connections) {
        if (!c.open || c.stalled) continue;
        open++;
        if (c.warm) warm++;
      }
      return { warm, open };
    }
    case 'close': {
      for (const c of connections) c.close();
      const closed = connections.length;
      connections.length = 0;
      return { closed };
    }
    default:
      return { error: `unknown command ${request.cmd}` };
  }
});
process.once('disconnect', () => process.exit(0));
process.send?.({ ready: true });
