/**
 * The event bus between instances, on Redis pub/sub (ioredis). Each `publish` is one PUBLISH of one JSON
 * message (`envelope.ts`) on one channel; every instance subscribes to it.
 *
 * An instance delivers its own events to its handlers at once, inside `publish`, and skips their echo from Redis
 * (recognised by prefix, unparsed). So its own subscribers never wait for a Redis round trip, they keep receiving
 * its events while Redis is down, and the handlers have run when `publish` returns, as with the in-process bus
 * (the webhook presence log relies on that). Each event reaches each handler once: locally or from Redis, never
 * both. Other instances' events arrive in each publisher's order; across publishers in any order.
 *
 * Redis pub/sub is at-most-once. What this bus does about each way to lose a message, and what it leaves to the
 * reader of the log (`onSubscribed` says when):
 * - subscription down (Redis restart, network, Redis dropping a slow subscriber past its output buffer limit):
 *   what others publish meanwhile is gone for this instance. On every re-subscription `onSubscribed` fires with
 *   `lostAt`: the hub must read the log for what it may have missed.
 * - publishing connection down: announcements are kept in order (bounded, `pendingMaxBytes`; the oldest dropped
 *   first, logged) and sent when it is back, late: instances that were subscribed then receive them out of
 *   position order.
 * - a PUBLISH in flight when the connection drops is not resent: it may have reached Redis, and sending it again
 *   could deliver it twice. Logged; the other instances find it in the log.
 * Two connections (a subscribed one cannot publish), each reconnecting forever with capped, jittered backoff.
 * Connection errors are logged at most once per window per connection, as one line without a stack; the URL and
 * its password never reach a log line.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { createBusHandlers, type BusSubscribed, type EventBus } from '../events/event-bus.js';
import type { HeraldEvent } from '../events/model.js';
import { createEnvelopeCodec, decodeEnvelope, EnvelopeError } from './envelope.js';

export const DEFAULT_CHANNEL = 'herald:events';

export interface RedisEventBusOptions {
  /** `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. Never logged. */
  readonly url: string;
  /** Pub/sub channel shared by the instances. @default 'herald:events' */
  readonly channel?: string;
  /** This instance's id, unique among the instances on the channel: its own echo is recognised by it. */
  readonly instanceId: string;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** A handler that throws is reported here; the other handlers still run. @default ignored */
  readonly onHandlerError?: (error: unknown) => void;
  /** Longest wait between two reconnection attempts (backoff doubles from 100 ms up to it, jittered). @default 2000 */
  readonly maxReconnectDelayMs?: number;
  /** Repeated errors of one connection are logged once per this window, with the count of those suppressed. @default 30000 */
  readonly errorLogIntervalMs?: number;
  /** Announcements kept (bytes of JSON) while the publishing connection is down; the oldest are dropped beyond. @default 8388608 (8 MiB) */
  readonly pendingMaxBytes?: number;
}

export interface RedisEventBus extends EventBus {
  readonly instanceId: string;
  readonly channel: string;
  /** Resolves once the first subscription is established (or the bus is closed). Never rejects. */
  readonly ready: Promise<void>;
  /** Whether other instances' events are arriving now. */
  readonly subscribed: boolean;
  onSubscribed(listener: (info: BusSubscribed) => void): () => void;
  onLost(listener: (at: number) => void): () => void;
  close(): Promise<void>;
}

type Role = 'pub' | 'sub';

const BACKOFF_START_MS = 100;
const QUIT_TIMEOUT_MS = 1_000;

export function createRedisEventBus(options: RedisEventBusOptions): RedisEventBus {
  const { instanceId, logger } = options;
  const channel = options.channel ?? DEFAULT_CHANNEL;
  const maxDelay = options.maxReconnectDelayMs ?? 2_000;
  const pendingMaxBytes = options.pendingMaxBytes ?? 8 * 1024 * 1024;
  const codec = createEnvelopeCodec(instanceId, randomBytes(6).toString('hex'));
  const handlers = createBusHandlers(options.onHandlerError);
  const target = describeTarget(options.url);
  const redact = redactor(options.url);
  const throttle = createThrottle(options.errorLogIntervalMs ?? 30_000);
  const subscribedListeners = new Set<(info: BusSubscribed) => void>();
  const lostListeners = new Set<(at: number) => void>();
  const at = { redis: target, channel, instanceId };

  let closed = false;
  let subscribed = false;
  let everSubscribed = false;
  let lostAt: number | null = null;
  let pending: string[] = [];
  let pendingBytes = 0;
  let resubscribeTimer: NodeJS.Timeout | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const connect = (role: Role) => {
    const connection = new Redis(options.url, {
      connectionName: `herald:${instanceId}:${role}`.replace(/[^\w.:-]/g, '_'),
      // Nothing is queued inside ioredis: announcements wait in `pending` (bounded, ours), and a command in
      // flight when the connection drops fails at once instead of being resent (a resend may duplicate it).
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      // Subscribing again is ours, so "subscribed" means Redis confirmed it.
      autoResubscribe: false,
      retryStrategy: (attempt) => backoff(attempt, maxDelay),
    });
    connection.on('error', (error: Error & { code?: string }) => noteError(role, 'connection error', error));
    return connection;
  };

  function noteError(role: Role, what: string, error: Error & { code?: string }) {
    if (closed) return;
    const suppressed = throttle(`${role}:${what}`);
    if (suppressed === undefined) return;
    logger.warn({ ...at, connection: role, code: error.code, error: redact(error.message), suppressed }, `redis event bus: ${what}`);
  }

  // --- publishing ---------------------------------------------------------------------------------------

  const pub = connect('pub');
  let droppedSinceLog = 0;

  function send(message: string) {
    if (pub.status === 'ready' && pending.length === 0) return write(message);
    pending.push(message);
    pendingBytes += Buffer.byteLength(message);
    while (pendingBytes > pendingMaxBytes && pending.length > 1) {
      pendingBytes -= Buffer.byteLength(pending.shift()!);
      droppedSinceLog++;
    }
    if (droppedSinceLog && throttle('pub:dropped') !== undefined) {
      logger.warn({ ...at, dropped: droppedSinceLog }, 'redis event bus: Redis unreachable for long: oldest announcements dropped; other instances must read them from the log');
      droppedSinceLog = 0;
    }
  }

  function write(message: string) {
    pub.publish(channel, message).catch((error: Error) => noteError('pub', 'announcement may not have reached Redis (not resent)', error));
  }

  pub.on('ready', () => {
    const queued = pending;
    pending = [];
    pendingBytes = 0;
    for (const message of queued) write(message);
    if (queued.length) logger.info({ ...at, sent: queued.length }, 'redis event bus: announcements kept while Redis was unreachable sent');
  });

  // --- subscribing --------------------------------------------------------------------------------------

  const sub = connect('sub');
  let subscribeAttempts = 0;
  // One per connection of `sub`: a SUBSCRIBE answered (or failed) for a connection that is gone is ignored.
  let generation = 0;

  /** Listeners are the hub's: one that throws must not break the bus (nor escape into ioredis' callbacks). */
  function notify<T>(listeners: ReadonlySet<(value: T) => void>, value: T) {
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (error) {
        options.onHandlerError?.(error);
      }
    }
  }

  function subscribe(current: number) {
    clearTimeout(resubscribeTimer);
    sub.subscribe(channel).then(
      () => {
        if (closed || current !== generation || subscribed) return;
        subscribeAttempts = 0;
        subscribed = true;
        const info: BusSubscribed = { reconnect: everSubscribed, lostAt, at: Date.now() };
        if (!info.reconnect) logger.info(at, 'redis event bus: subscribed');
        else {
          const suppressed = throttle('sub:again');
          if (suppressed !== undefined) logger.info({ ...at, downMs: info.at - (lostAt ?? info.at), suppressed }, 'redis event bus: subscribed again');
        }
        everSubscribed = true;
        lostAt = null;
        markReady();
        notify(subscribedListeners, info);
      },
      (error: Error) => {
        if (closed || current !== generation) return;
        noteError('sub', 'subscribe failed', error);
        // The connection is up but refuses (ACL, a command renamed): retry on it, with backoff.
        resubscribeTimer = setTimeout(() => subscribe(current), backoff(++subscribeAttempts, maxDelay));
      },
    );
  }

  sub.on('ready', () => subscribe(++generation));
  sub.on('close', () => {
    generation++;
    clearTimeout(resubscribeTimer);
    if (closed || !subscribed) return;
    subscribed = false;
    lostAt = Date.now();
    const suppressed = throttle('sub:lost');
    if (suppressed !== undefined) logger.warn({ ...at, suppressed }, 'redis event bus: subscription lost; other instances\' events are not received until it is back');
    notify(lostListeners, lostAt);
  });
  sub.on('message', (from: string, message: string) => {
    if (from !== channel || closed || codec.isOwn(message)) return;
    let envelope;
    try {
      envelope = decodeEnvelope(message);
    } catch (error) {
      if (throttle('sub:malformed') !== undefined) {
        const reason = error instanceof EnvelopeError ? error.message : 'unreadable';
        logger.warn({ ...at, reason, bytes: message.length }, 'redis event bus: message dropped: not a Herald announcement');
      }
      return;
    }
    if (envelope.from === instanceId && throttle('sub:clash') !== undefined) {
      logger.error(at, 'redis event bus: another process publishes with this INSTANCE_ID; give every instance its own');
    }
    handlers.deliver(envelope.events);
  });

  return {
    instanceId,
    channel,
    ready,
    get subscribed() {
      return subscribed;
    },
    publish(events: readonly HeraldEvent[]) {
      if (events.length === 0) return;
      if (!closed) {
        try {
          send(codec.encode(events));
        } catch (error) {
          // Not serializable (a bug upstream): the events are committed, so this instance still delivers them.
          noteError('pub', 'announcement not serializable', error as Error);
        }
      }
      handlers.deliver(events);
    },
    subscribe: handlers.subscribe,
    onSubscribed(listener) {
      subscribedListeners.add(listener);
      return () => void subscribedListeners.delete(listener);
    },
    onLost(listener) {
      lostListeners.add(listener);
      return () => void lostListeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(resubscribeTimer);
      pending = [];
      markReady();
      await Promise.all([quit(pub), quit(sub)]);
    },
  };
}

/** Capped exponential backoff from 100 ms, with jitter in [half, full], so instances do not reconnect in step. */
function backoff(attempt: number, maxDelay: number): number {
  const ceiling = Math.min(maxDelay, BACKOFF_START_MS * 2 ** Math.min(attempt - 1, 16));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** QUIT when connected (replies to commands already sent are read first), else just stop reconnecting. */
async function quit(connection: Redis): Promise<void> {
  if (connection.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      connection.quit().catch(() => {}),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
  }
  connection.disconnect();
}

/**
 * `key` may be logged now: returns how many were suppressed since the last time it was, or undefined when the
 * window since then has not passed yet.
 */
function createThrottle(intervalMs: number): (key: string) => number | undefined {
  const windows = new Map<string, { at: number; suppressed: number }>();
  return (key) => {
    const now = Date.now();
    const window = windows.get(key);
    if (window && now - window.at < intervalMs) {
      window.suppressed++;
      return undefined;
    }
    windows.set(key, { at: now, suppressed: 0 });
    return window?.suppressed ?? 0;
  };
}

/** `host:port/db` for logs: no user, no password. */
export function describeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    const db = parsed.pathname.replace(/^\//, '');
    return `${parsed.hostname}:${parsed.port || '6379'}${db ? `/${db}` : ''}`;
  } catch {
    return 'redis';
  }
}

/** Removes the URL and its password (as written and decoded) from a message before it is logged. */
export function redactor(url: string): (message: string) => string {
  let secrets: string[] = [url];
  try {
    const { password } = new URL(url);
    if (password) secrets = [url, password, safeDecode(password)];
  } catch {
    // not a URL: only the whole string is redacted
  }
  // Longest first, so the URL goes before the password inside it; a one-character password would mangle the text.
  secrets = [...new Set(secrets)].filter((s) => s.length >= 2).sort((a, b) => b.length - a.length);
  return (message) => secrets.reduce((text, secret) => text.split(secret).join('***'), message);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
