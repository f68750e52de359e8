/**
 * `createHeraldClient`: typed live events from a Herald hub over WebSocket or SSE, with the guarantees the hub's
 * cursors make possible — reconnect forever (capped exponential backoff, full jitter), resume every subscription
 * from the last event it handed out, drop duplicates by id, deliver in log order — and `auto` falling back to
 * SSE where a proxy blocks WebSocket (and trying WebSocket again later).
 *
 * The connection is lazy: it opens with the first `on()` and closes when the last handler leaves. What happens
 * on each close code is in close-policy.ts; delivery guarantees are in subscription.ts.
 */
import { backoffDelay } from './backoff.js';
import { closeAction, looksBlocked } from './close-policy.js';
import type { CloseInfo, Connection, TransportKind } from './connection.js';
import { HeraldError } from './errors.js';
import type { EventTypeName } from './generated/events.js';
import { postGraphQL } from './http.js';
import { globalFetch, globalWebSocket, onWake, timers, type TimerHandle } from './runtime.js';
import { openSseConnection } from './sse-connection.js';
import { toCursorStorage, type CursorStorage } from './storage.js';
import { LiveSubscription, subscriptionKey, type GapInfo, type SubscriptionTarget } from './subscription.js';
import { openWsConnection } from './ws-connection.js';
import { GenericOperation, type OperationHandlers } from './operation.js';
import type { ConnectionState, HeraldClient, HeraldClientOptions, HeraldClientStatus, TrackingOptions, TransportOption } from './client-types.js';

export type * from './client-types.js';

/** `auto` on SSE tries WebSocket again this soon first, then twice as late each time, up to `webSocketRetryMs`. */
const FIRST_PROBE_MS = 5000;

/** A connection the hub ended with a "resume" code after at least this long resets the backoff. */
const RESUME_RESET_MS = 1000;

const wsUrlOf = (url: string) => url.replace(/^http(s?):\/\//i, (_m, s: string) => `ws${s}://`);

/**
 * A client for live events. Throws `TypeError` for options it cannot work with (no token source, no WebSocket
 * class where one is needed); everything later is reported through `status()`, `onError` and `onGap`.
 * @example
 * const client = createHeraldClient({ url: 'https://hub.example/graphql', getToken: () => auth.token() });
 * const off = client.on('ORDER_CONFIRMED', (e) => toast(`Ready in ${e.preparationMinutes} min`));
 */
export function createHeraldClient(options: HeraldClientOptions): HeraldClient {
  if (!/^https?:\/\//i.test(options.url)) throw new TypeError(`createHeraldClient: url must be http(s)://…/graphql, got ${JSON.stringify(options.url)}`);
  if (!options.token && !options.getToken) throw new TypeError('createHeraldClient: pass `token` or `getToken`');
  const transportOption: TransportOption = options.transport ?? 'auto';
  const preferred: TransportKind | 'auto' = transportOption === 'ws' ? 'websocket' : transportOption;
  const fetchImpl = options.fetch ?? globalFetch();
  const webSocketImpl = options.webSocketImpl ?? globalWebSocket();
  if (preferred !== 'sse' && !webSocketImpl) {
    throw new TypeError("createHeraldClient: no global WebSocket: pass `webSocketImpl` (Node: `import WebSocket from 'ws'`) or transport: 'sse'");
  }
  const wsUrl = options.wsUrl ?? wsUrlOf(options.url);
  const backoff = { initialDelayMs: options.initialRetryDelayMs ?? 1000, maxDelayMs: options.maxRetryDelayMs ?? 30_000 };
  const stableAfterMs = options.stableAfterMs ?? 5000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const webSocketRetryMs = options.webSocketRetryMs ?? 300_000;
  const storage: CursorStorage | undefined = options.storage ? toCursorStorage(options.storage, options.storagePrefix ?? 'herald:cursor:') : undefined;
  const canRefresh = typeof options.getToken === 'function';

  const subscriptions = new Map<string, LiveSubscription>();
  const listeners = new Set<(status: HeraldClientStatus) => void>();
  let state: ConnectionState = 'disconnected';
  let connection: Connection | undefined;
  let connectedAt = 0;
  let failures = 0;
  let fallback = false;
  let wsBlockedUntil = 0;
  let lastCursor: string | null = null;
  let lastClose: HeraldClientStatus['lastClose'] = null;
  let lastError: HeraldError | null = null;
  let stopped = false; // the hub said stop; a new on() starts again
  let closed = false; // close() was called
  let reconnectTimer: TimerHandle | undefined;
  let probeTimer: TimerHandle | undefined;
  let probe: Connection | undefined;
  let probeFailures = 0;
  let attempt = 0; // increments per connection attempt, so late callbacks of an old attempt are ignored
  let inFlight = false; // a connect() is getting its token

  const reportError = (error: HeraldError, key?: string) => {
    lastError = error;
    try {
      options.onError?.(error, key);
    } catch {
      // a listener's failure never changes the client
    }
  };

  const status = (): HeraldClientStatus => ({
    state,
    transport: connection?.isReady ? connection.kind : null,
    fallback: fallback && connection?.kind === 'sse',
    subscriptions: [...subscriptions.values()].map((s) => s.status()),
    lastCursor,
    reconnectAttempts: state === 'connected' ? 0 : failures,
    lastClose,
    error: lastError,
  });

  const changed = () => {
    const snapshot = status();
    for (const listener of [...listeners]) {
      try {
        listener(snapshot);
      } catch {
        // ignored, as above
      }
    }
  };

  const setState = (next: ConnectionState) => {
    if (state === next) return;
    state = next;
    changed();
  };

  async function token(): Promise<string> {
    let value: string | undefined;
    try {
      value = options.getToken ? await options.getToken() : options.token;
    } catch (error) {
      throw new HeraldError('TOKEN_UNAVAILABLE', `getToken() failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
    if (!value) throw new HeraldError('TOKEN_UNAVAILABLE', 'getToken() returned no token');
    return value;
  }

  const host = {
    retryDelay: (n: number) => backoffDelay(n, backoff),
    schedule: (callback: () => void, ms: number) => {
      const handle = timers.set(callback, ms);
      return () => timers.clear(handle);
    },
    gap: (info: GapInfo) => {
      try {
        options.onGap?.(info);
      } catch {
        // ignored
      }
    },
    error: reportError,
    changed: (cursor?: string) => {
      if (cursor !== undefined) lastCursor = cursor;
      changed();
    },
  };

  function open(kind: TransportKind, bearer: string): Connection {
    return kind === 'websocket'
      ? openWsConnection({
          url: wsUrl,
          token: bearer,
          webSocketImpl,
          connectTimeoutMs,
          keepAliveMs: options.keepAliveMs ?? 15_000,
          pongTimeoutMs: options.pongTimeoutMs ?? 10_000,
        })
      : openSseConnection({
          url: options.url,
          // The first stream uses the token fetched for this attempt; later ones ask again.
          token: (() => {
            let first: string | undefined = bearer;
            return async () => {
              const value = first ?? (await token());
              first = undefined;
              return value;
            };
          })(),
          fetch: fetchImpl,
          connectTimeoutMs,
          idleTimeoutMs: options.sseIdleTimeoutMs ?? 45_000,
        });
  }

  /** Every operation a connection carries: the event subscriptions and the app's own (`subscribe`). */
  const operations = new Set<GenericOperation>();
  const carried = (): Array<LiveSubscription | GenericOperation> => [...subscriptions.values(), ...operations];
  const wanted = () => !closed && !stopped && subscriptions.size + operations.size > 0;

  /** One connection attempt of the given kind; `viaFallback`: WebSocket just failed as if blocked. */
  async function connect(kind: TransportKind, viaFallback = false): Promise<void> {
    const mine = ++attempt;
    timers.clear(reconnectTimer);
    reconnectTimer = undefined;
    if (!wanted()) return setState('disconnected');
    setState(connectedAt === 0 && failures === 0 && !lastClose ? 'connecting' : 'reconnecting');
    inFlight = true;
    let bearer: string;
    try {
      bearer = await token();
      await Promise.all(carried().map((s) => s.restore()));
    } catch (error) {
      if (mine !== attempt) return;
      inFlight = false;
      reportError(error as HeraldError);
      return scheduleReconnect('retry');
    }
    if (mine !== attempt) return;
    inFlight = false;
    if (!wanted()) return setState('disconnected');
    const conn = open(kind, bearer);
    connection = conn;
    // SSE becomes ready through its first stream: start the operations at once; WebSocket waits for the ack.
    if (conn.kind === 'sse') for (const sub of carried()) if (sub.restored) sub.attach(conn);
    void conn.ready.then(() => {
      if (connection !== conn) return;
      connectedAt = Date.now();
      lastError = null;
      for (const sub of carried()) if (sub.restored && sub.connection !== conn) sub.attach(conn);
      if (conn.kind === 'websocket') {
        fallback = false;
        wsBlockedUntil = 0;
        probeFailures = 0;
      } else if (viaFallback) {
        fallback = true;
        scheduleProbe();
      }
      state = 'connected';
      changed();
    });
    void conn.closed.then((info) => {
      if (connection !== conn) return;
      onClosed(conn, info);
    });
  }

  function onClosed(conn: Connection, info: CloseInfo): void {
    connection = undefined;
    for (const sub of carried()) sub.detach();
    lastClose = { code: info.code, reason: info.reason };
    if (!wanted()) return setState('disconnected');
    const lived = connectedAt ? Date.now() - connectedAt : -1;
    connectedAt = 0;
    // A stable connection resets the backoff; so does one the hub ended on purpose after a while (token expiry,
    // restart, slow consumer): resuming it at once is not a failure. One that ends at once keeps backing off.
    if (lived >= stableAfterMs || (lived >= RESUME_RESET_MS && closeAction(info, canRefresh) === 'resume')) failures = 0;
    // auto: WebSocket that could not get through goes to SSE at once, before any backoff.
    if (preferred === 'auto' && conn.kind === 'websocket' && looksBlocked(info)) {
      void connect('sse', true);
      return;
    }
    const action = closeAction(info, canRefresh);
    if (action === 'stop') {
      stopped = true;
      reportError(new HeraldError('CONNECTION_CLOSED', `The hub closed the connection (${info.code}): ${info.reason}`, { closeCode: info.code }));
      return setState('disconnected');
    }
    if (info.code !== 1000 && action === 'retry') lastError = new HeraldError('CONNECTION_CLOSED', `Connection lost (${info.code}): ${info.reason}`, { closeCode: info.code });
    scheduleReconnect(action, info.retryAfterSeconds);
  }

  function scheduleReconnect(action: 'resume' | 'retry', retryAfterSeconds?: number): void {
    if (!wanted()) return setState('disconnected');
    let delay = action === 'resume' && failures === 0 ? 0 : backoffDelay(failures, backoff);
    if (retryAfterSeconds) delay = Math.max(delay, retryAfterSeconds * 1000);
    failures++;
    state = 'reconnecting';
    changed();
    timers.clear(reconnectTimer);
    reconnectTimer = timers.set(() => void connect(nextKind()), delay);
  }

  const nextKind = (): TransportKind => (preferred === 'auto' ? (Date.now() < wsBlockedUntil ? 'sse' : 'websocket') : preferred);

  /**
   * `auto` on SSE: try WebSocket again later — soon at first (the failure may have been a restart racing the
   * fallback, not a proxy), then less often — and when it gets its ack, move every subscription over.
   */
  function scheduleProbe(): void {
    timers.clear(probeTimer);
    const delay = Math.min(webSocketRetryMs, FIRST_PROBE_MS * 2 ** Math.min(probeFailures, 20));
    wsBlockedUntil = Date.now() + delay; // reconnects until then stay on SSE
    probeTimer = timers.set(() => void runProbe(), delay);
  }

  async function runProbe(): Promise<void> {
    probeTimer = undefined;
    const current = connection;
    if (!current || current.kind !== 'sse' || !wanted()) return;
    let bearer: string;
    try {
      bearer = await token();
    } catch {
      return scheduleProbe();
    }
    const candidate = open('websocket', bearer);
    probe = candidate;
    void candidate.closed.then(() => {
      if (probe === candidate) {
        probe = undefined;
        probeFailures++;
        if (connection?.kind === 'sse') scheduleProbe();
      }
    });
    await candidate.ready;
    probe = undefined;
    if (connection !== current || !wanted()) return candidate.close();
    // Both streams resume from the same cursors; the overlap is dropped by id.
    attempt++;
    connection = candidate;
    fallback = false;
    wsBlockedUntil = 0;
    probeFailures = 0;
    connectedAt = Date.now();
    for (const sub of carried()) if (sub.restored) sub.attach(candidate);
    current.close();
    void candidate.closed.then((info) => {
      if (connection === candidate) onClosed(candidate, info);
    });
    changed();
  }

  const stopWake = onWake(() => {
    // Back online or visible again: do not wait out the backoff.
    if (reconnectTimer !== undefined && wanted()) void connect(nextKind());
  });

  function ensureConnected(): void {
    if (connection || reconnectTimer !== undefined || inFlight || !wanted()) return;
    void connect(nextKind());
  }

  /** The connection a new subscription can start on now (SSE takes operations before it is ready). */
  const usable = () => (connection && (connection.isReady || connection.kind === 'sse') ? connection : undefined);

  function closeConnection(): void {
    attempt++;
    inFlight = false;
    timers.clear(reconnectTimer);
    timers.clear(probeTimer);
    reconnectTimer = probeTimer = undefined;
    probe?.close();
    probe = undefined;
    const conn = connection;
    connection = undefined;
    for (const sub of carried()) sub.detach();
    conn?.close();
    connectedAt = 0;
    setState('disconnected');
  }

  function targetOf(types: unknown, handlerOptions: Partial<TrackingOptions> | undefined): SubscriptionTarget {
    if (types === 'deliveryTracking') {
      if (!handlerOptions?.deliveryId) throw new TypeError("on('deliveryTracking') needs { deliveryId }");
      return { kind: 'deliveryTracking', deliveryId: handlerOptions.deliveryId };
    }
    if (types === '*') return { kind: 'events', types: null };
    const list = (Array.isArray(types) ? types : [types]) as EventTypeName[];
    if (list.length === 0) throw new TypeError('on([]) needs at least one event type, or "*"');
    return { kind: 'events', types: [...new Set(list)].sort() };
  }

  function on(types: unknown, handler: (event: never) => void, handlerOptions?: Partial<TrackingOptions>): () => void {
    if (closed) throw new HeraldError('CLIENT_CLOSED', 'This Herald client was closed');
    const target = targetOf(types, handlerOptions);
    const key = subscriptionKey(target);
    let sub = subscriptions.get(key);
    const fn = handler as (event: Record<string, unknown>) => void;
    if (!sub) {
      sub = new LiveSubscription(target, host, storage, handlerOptions?.after);
      subscriptions.set(key, sub);
      if (stopped) {
        // A new on() after the hub said stop (e.g. a fresh sign-in) tries again.
        stopped = false;
        failures = 0;
      }
      const created = sub;
      // Start after the current task: an on/off/on in one tick (React StrictMode) runs one subscription.
      void Promise.resolve().then(async () => {
        if (subscriptions.get(key) !== created) return;
        await created.restore();
        if (subscriptions.get(key) !== created) return;
        const conn = usable();
        if (!conn) return ensureConnected();
        if (created.connection !== conn) created.attach(conn);
      });
      changed();
    }
    sub.handlers.add(fn);
    return () => off(types as EventTypeName, handler, handlerOptions as { deliveryId: string });
  }

  function off(types: unknown, handler: (event: never) => void, handlerOptions?: { readonly deliveryId: string }): void {
    const key = subscriptionKey(targetOf(types, handlerOptions));
    const sub = subscriptions.get(key);
    if (!sub) return;
    sub.handlers.delete(handler as (event: Record<string, unknown>) => void);
    if (sub.handlers.size > 0) return;
    void Promise.resolve().then(() => {
      if (sub.handlers.size > 0 || subscriptions.get(key) !== sub) return;
      sub.detach();
      subscriptions.delete(key);
      if (!wanted()) closeConnection();
      else changed();
    });
  }

  return {
    on: on as HeraldClient['on'],
    off: off as HeraldClient['off'],
    async query(document, variables) {
      return postGraphQL({ query: String(document), variables: variables ?? {} }, { url: options.url, token: await token(), fetch: fetchImpl, timeoutMs: connectTimeoutMs * 3 });
    },
    subscribe(document, variables, handlers) {
      if (closed) throw new HeraldError('CLIENT_CLOSED', 'This Herald client was closed');
      const operation = new GenericOperation({ query: String(document), variables: variables ?? {} }, handlers as OperationHandlers<unknown>, (ended) => {
        operations.delete(ended);
      });
      operations.add(operation);
      if (stopped) {
        stopped = false;
        failures = 0;
      }
      // After the current task, as `on`: a subscribe/unsubscribe in one tick (StrictMode) sends nothing.
      void Promise.resolve().then(() => {
        if (!operations.has(operation)) return;
        const conn = usable();
        if (!conn) return ensureConnected();
        if (operation.connection !== conn) operation.attach(conn);
      });
      return () => {
        if (!operations.delete(operation)) return;
        operation.detach();
        if (!wanted()) closeConnection();
      };
    },
    status,
    onStatus(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      if (closed) return;
      closed = true;
      stopWake();
      closeConnection();
      subscriptions.clear();
      operations.clear();
      changed();
      listeners.clear();
    },
  };
}
