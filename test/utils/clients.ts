/** Real clients for tests: graphql-ws over `ws`, EventSource (the `eventsource` package), graphql-sse. */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { EventSource } from 'eventsource';
import { deferred, waitFor } from './deferred.js';

export interface Collected<T = any> {
  readonly items: T[];
  /** Resolves when the subscription errors or completes. */
  readonly ended: Promise<{ error?: unknown }>;
  waitForCount(n: number, timeoutMs?: number): Promise<T[]>;
  stop(): void;
}

export interface WsClientHandle {
  readonly client: Client;
  /** Resolves with the close event when the socket closes. */
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly connected: Promise<void>;
  subscribe<T = any>(query: string, variables?: Record<string, unknown>): Collected<T>;
  dispose(): Promise<void>;
}

export function wsClient(url: string, token: string | undefined, options: { connectionParams?: Record<string, unknown> } = {}): WsClientHandle {
  const closed = deferred<{ code: number; reason: string }>();
  const connected = deferred<void>();
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: options.connectionParams ?? (token ? { authorization: `Bearer ${token}` } : {}),
    on: {
      connected: () => connected.resolve(),
      closed: (event) => {
        const e = event as { code: number; reason: string };
        closed.resolve({ code: e.code, reason: String(e.reason) });
      },
    },
    onNonLazyError: () => {},
  });
  return {
    client,
    closed: closed.promise,
    connected: connected.promise,
    subscribe(query, variables) {
      const items: any[] = [];
      const ended = deferred<{ error?: unknown }>();
      const stop = client.subscribe(
        { query, variables },
        {
          next: (value) => items.push(value),
          error: (error) => ended.resolve({ error }),
          complete: () => ended.resolve({}),
        },
      );
      return collected(items, ended.promise, stop);
    },
    async dispose() {
      await client.dispose();
    },
  };
}

function collected<T>(items: T[], ended: Promise<{ error?: unknown }>, stop: () => void): Collected<T> {
  return {
    items,
    ended,
    async waitForCount(n, timeoutMs = 5000) {
      await waitFor(() => items.length >= n, timeoutMs, `${n} items (have ${items.length})`);
      return items;
    },
    stop,
  };
}

export interface SseHandle {
  readonly source: EventSource;
  /** Parsed `data` of every `next` event, with the SSE `lastEventId` beside it. */
  readonly items: Array<{ id: string; payload: any }>;
  readonly opened: Promise<void>;
  readonly errors: unknown[];
  waitForCount(n: number, timeoutMs?: number): Promise<Array<{ id: string; payload: any }>>;
  close(): void;
}

/** Opens an EventSource on a GET subscription URL (token in `access_token`, as browsers must). */
export function sseSubscribe(
  graphqlUrl: string,
  token: string,
  query: string,
  variables?: Record<string, unknown>,
  init: { lastEventId?: string; headers?: Record<string, string> } = {},
): SseHandle {
  const url = new URL(graphqlUrl);
  url.searchParams.set('query', query);
  if (variables) url.searchParams.set('variables', JSON.stringify(variables));
  url.searchParams.set('access_token', token);
  const items: Array<{ id: string; payload: any }> = [];
  const errors: unknown[] = [];
  const opened = deferred<void>();
  const source = new EventSource(url, {
    fetch: (input, requestInit) =>
      fetch(input, {
        ...requestInit,
        headers: { ...(requestInit?.headers as Record<string, string>), ...init.headers, ...(init.lastEventId ? { 'last-event-id': init.lastEventId } : {}) },
      }),
  });
  source.addEventListener('open', () => opened.resolve());
  source.addEventListener('next', (event) => items.push({ id: event.lastEventId, payload: JSON.parse(event.data) }));
  source.addEventListener('error', (event) => errors.push(event));
  return {
    source,
    items,
    opened: opened.promise,
    errors,
    async waitForCount(n, timeoutMs = 5000) {
      await waitFor(() => items.length >= n, timeoutMs, `${n} SSE events (have ${items.length})`);
      return items;
    },
    close: () => source.close(),
  };
}

export interface RawSocket {
  readonly socket: WebSocket;
  /** Every frame, parsed. */
  readonly frames: any[];
  /** Every frame as the bytes arrived (text). */
  readonly raw: string[];
  readonly closed: Promise<{ code: number; reason: string }>;
  send(message: object): void;
}

/** A hand-driven graphql-transport-ws socket: sees every frame as sent, can stop reading (`socket._socket.pause()`). */
export async function rawSocket(url: string, token: string): Promise<RawSocket> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const frames: any[] = [];
  const raw: string[] = [];
  const closed = deferred<{ code: number; reason: string }>();
  socket.on('message', (data) => {
    raw.push(String(data));
    frames.push(JSON.parse(String(data)));
  });
  socket.on('close', (code, reason) => closed.resolve({ code, reason: String(reason) }));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await waitFor(() => frames.some((f) => f.type === 'connection_ack') || socket.readyState !== socket.OPEN, 5000, 'connection_ack');
  return { socket, frames, raw, closed: closed.promise, send: (message: object) => socket.send(JSON.stringify(message)) };
}
