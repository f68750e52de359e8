/**
 * A real webhook receiver for tests: an HTTP server on 127.0.0.1 that records every request and answers as told
 * per path (200 by default; any status, headers such as Retry-After, a delay, or never).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { waitFor } from './deferred.js';

export interface ReceivedRequest {
  readonly path: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The raw body, exactly as sent (what signatures cover). */
  readonly body: string;
  /** `Date.now()` when the body was complete. */
  readonly at: number;
  json<T = any>(): T;
}

/** `'hang'`: never answer (the connection stays open until the receiver closes). */
export type Reply = { status?: number; headers?: Record<string, string>; body?: string; delayMs?: number } | 'hang';

/** Decides the answer; `n` counts requests to this path, from 1. */
export type Behaviour = (request: ReceivedRequest, n: number) => Reply;

export interface Receiver {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The URL of a path on this receiver, e.g. `url('/a')`. */
  url(path?: string): string;
  /** Sets how a path answers (replacing the previous behaviour). */
  on(path: string, behaviour: Behaviour | Reply): void;
  /** Requests received, optionally only those to `path`, oldest first. */
  received(path?: string): ReceivedRequest[];
  /** Waits until `count` requests (to `path`, if given) have arrived. */
  waitForCount(count: number, options?: { path?: string; timeoutMs?: number }): Promise<ReceivedRequest[]>;
  /** Closes the server and every connection (hanging ones included). */
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const behaviours = new Map<string, Behaviour>();
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();

  const answer = (res: ServerResponse, reply: Reply) => {
    if (reply === 'hang') return;
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain', ...reply.headers });
      res.end(reply.body ?? 'ok');
    };
    if (reply.delayMs) setTimeout(send, reply.delayMs);
    else send();
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
      const request: ReceivedRequest = { path, method: req.method ?? '', headers, body, at: Date.now(), json: () => JSON.parse(body) };
      requests.push(request);
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      answer(res, behaviours.get(path)?.(request, n) ?? {});
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const received = (path?: string) => (path === undefined ? [...requests] : requests.filter((r) => r.path === path));

  return {
    origin,
    url: (path = '/') => `${origin}${path}`,
    on(path, behaviour) {
      behaviours.set(path, typeof behaviour === 'function' ? behaviour : () => behaviour);
    },
    received,
    async waitForCount(count, { path, timeoutMs = 10_000 } = {}) {
      await waitFor(() => received(path).length >= count, timeoutMs, `${count} webhook requests${path ? ` to ${path}` : ''}`);
      return received(path);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
