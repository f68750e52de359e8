/**
 * One WebSocket connection on graphql-ws's client, used for a single connection's life: the SDK owns
 * reconnection (graphql-ws would retry 5 times, then give up, and resubscribe with the `after` it started
 * with). So `retryAttempts: 0`, and the client is disposed when the socket closes.
 * Liveness: graphql-ws sends a `ping` `keepAliveMs` after the last `pong`; the connection is terminated when a
 * ping has waited `pongTimeoutMs` with no traffic at all since. Only a sent ping starts that clock, so timers a
 * background tab throttles (fired late, never early) cannot declare a healthy connection dead.
 */
import { createClient, type Client } from 'graphql-ws';
import { fromGraphQLErrors, HeraldError, type GraphQLErrorLike } from './errors.js';
import type { GraphQLRequest } from './http.js';
import { timers, type TimerHandle } from './runtime.js';
import { LocalCloseCode, type CloseInfo, type Connection, type OperationSink, type ResultLike } from './connection.js';

export interface WsConnectionOptions {
  readonly url: string;
  readonly token: string;
  /** A WebSocket class (browsers' global, or `ws` on Node). */
  readonly webSocketImpl: unknown;
  /** From creating the socket to `connection_ack`. */
  readonly connectTimeoutMs: number;
  readonly keepAliveMs: number;
  readonly pongTimeoutMs: number;
}

type CloseEventLike = { code?: number; reason?: string };

/**
 * The `ws` package throws when an `error` event has no listener, which happens when graphql-ws aborts a
 * socket still in its opening handshake (it clears `onerror` first). A listener that does nothing prevents it.
 */
function guarded(impl: unknown): unknown {
  const Base = impl as new (url: string, protocols?: string | string[]) => { on?: (event: string, listener: () => void) => void };
  if (typeof (Base.prototype as { on?: unknown }).on !== 'function') return impl;
  return class GuardedWebSocket extends Base {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.on?.('error', () => {});
    }
  };
}

export function openWsConnection(options: WsConnectionOptions): Connection {
  let ready = false;
  let ended = false;
  let resolveReady!: () => void;
  let resolveClosed!: (info: CloseInfo) => void;
  const readyPromise = new Promise<void>((resolve) => (resolveReady = resolve));
  const closedPromise = new Promise<CloseInfo>((resolve) => (resolveClosed = resolve));
  let lastTraffic = Date.now();
  let pingSentAt: number | undefined;
  let watchdog: TimerHandle | undefined;

  /** `fromSocket`: the socket closed by itself; otherwise the SDK ends it (a timeout, or `close()`). */
  const finish = (info: Omit<CloseInfo, 'beforeReady'>, notify: boolean, fromSocket: boolean) => {
    if (ended) return;
    ended = true;
    timers.clear(connectTimer);
    timers.stop(watchdog);
    // Sets graphql-ws's `disposed` at once, so it never retries on its own (rejects when the handshake never finished).
    Promise.resolve(client.dispose()).catch(() => {});
    // dispose() closes only an acknowledged socket; terminate() also aborts one stuck in its handshake.
    if (!fromSocket && !ready) client.terminate();
    if (notify) resolveClosed({ ...info, beforeReady: !ready });
  };

  const client: Client = createClient({
    url: options.url,
    webSocketImpl: guarded(options.webSocketImpl),
    lazy: false,
    retryAttempts: 0,
    keepAlive: options.keepAliveMs,
    connectionParams: { authorization: `Bearer ${options.token}` },
    onNonLazyError: () => {},
    on: {
      connected: () => {
        ready = true;
        timers.clear(connectTimer);
        lastTraffic = Date.now();
        watchdog = timers.every(() => {
          if (pingSentAt !== undefined && lastTraffic < pingSentAt && Date.now() - pingSentAt > options.pongTimeoutMs) {
            finish({ code: LocalCloseCode.Terminated, reason: `no pong within ${options.pongTimeoutMs} ms` }, true, false);
            client.terminate();
          }
        }, Math.max(250, Math.min(options.keepAliveMs, options.pongTimeoutMs)));
        resolveReady();
      },
      message: () => {
        lastTraffic = Date.now();
        pingSentAt = undefined;
      },
      ping: (received) => {
        if (!received && pingSentAt === undefined) pingSentAt = Date.now();
      },
      closed: (event) => {
        const e = event as CloseEventLike;
        finish({ code: typeof e.code === 'number' ? e.code : LocalCloseCode.Abnormal, reason: String(e.reason ?? '') }, true, true);
      },
    },
  });

  // graphql-ws's own ack timeout starts only once the socket is open; a proxy that swallows the upgrade never opens it.
  const connectTimer = timers.set(() => {
    if (!ready) finish({ code: LocalCloseCode.AckTimeout, reason: `no connection_ack within ${options.connectTimeoutMs} ms` }, true, false);
  }, options.connectTimeoutMs);

  return {
    kind: 'websocket',
    ready: readyPromise,
    get isReady() {
      return ready && !ended;
    },
    closed: closedPromise,
    subscribe(request: GraphQLRequest, sink: OperationSink) {
      let active = true;
      const stop = client.subscribe<Record<string, unknown>>(
        { query: request.query, variables: request.variables ?? {}, ...(request.operationName ? { operationName: request.operationName } : {}) },
        {
          next: (result) => {
            if (active && !ended) sink.next(result as ResultLike);
          },
          error: (error) => {
            if (!active || ended) return; // a socket close: the connection reports it
            active = false;
            sink.error(Array.isArray(error) ? fromGraphQLErrors(error as GraphQLErrorLike[]) : new HeraldError('INTERNAL_SERVER_ERROR', String(error), { cause: error }));
          },
          complete: () => {
            if (!active || ended) return;
            active = false;
            sink.complete();
          },
        },
      );
      return () => {
        active = false;
        stop();
      };
    },
    close() {
      finish({ code: 1000, reason: 'client closed' }, false, false);
    },
  };
}
