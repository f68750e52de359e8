/**
 * A live connection, whatever carries it (WebSocket or SSE): who is connected, what they subscribed to,
 * one bounded writer, and one way to end it. Transports create sessions through the registry and keep
 * only framing; limits, token expiry, revocation and slow-consumer handling live here.
 */
import type { Role } from '../events/catalogue.js';
import type { VerifiedViewer } from '../auth/tokens.js';
import { SessionWriter, type Frame, type FrameSink } from './writer.js';

export type TransportKind = 'websocket' | 'sse';

/** The transport under a session: frames out, and a close that the peer can understand. */
export interface SessionTransport extends FrameSink {
  readonly kind: TransportKind;
  /** Ends the connection, telling the peer why (WebSocket close frame; SSE final `event: error`). */
  end(code: number, reason: string): void;
}

/** Something a session runs and must stop when it closes (a subscription, a replay). */
export interface SessionOperation {
  stop(): void;
}

export interface SessionOptions {
  readonly id: number;
  readonly viewer: VerifiedViewer;
  readonly transport: SessionTransport;
  readonly queue: { readonly maxBytes: number; readonly maxMessages: number };
  /** Close codes this session uses for its own reasons (transport-independent numbers). */
  readonly codes: { readonly tokenExpired: number; readonly slowConsumer: number; readonly rateLimited?: number };
  /** The budget of `subscribe` messages (SUBSCRIBE_RATE_PER_CONNECTION, _BURST_), and where refusals are counted; unset: none. */
  readonly subscribeRate?: { readonly perSecond: number; readonly burst: number; readonly refused: { subscribeRate: number } };
  /** Called once, after the session closed, with the close code. */
  readonly onClosed: (session: Session, code: number) => void;
  /** Where sent frames are counted (the registry's). */
  readonly counters?: { framesSent: number };
}

/**
 * A session refused this many `subscribe` messages within ABUSE_WINDOW_MS is closed (`codes.rateLimited`): a client
 * that ignores RATE_LIMITED answers is not served one error frame per message forever.
 */
export const SUBSCRIBE_REFUSALS_BEFORE_CLOSE = 100;
const ABUSE_WINDOW_MS = 10_000;

export class Session {
  readonly id: number;
  readonly viewer: SessionOptions['viewer'];
  readonly transport: SessionTransport;
  readonly writer: SessionWriter;
  /** Live operations by the client's id (graphql-ws subscription id; SSE streams use one). */
  readonly operations = new Map<string, SessionOperation>();
  /** When the token expires (ms since epoch); the registry's sweep closes the session then. */
  readonly expiresAt: number | undefined;
  #closed = false;
  readonly #codes: SessionOptions['codes'];
  readonly #onClosed: SessionOptions['onClosed'];
  readonly #counters: { framesSent: number };
  readonly #subscribeRate: SessionOptions['subscribeRate'];
  // The subscribe token bucket (tokens, last refill) and the refusals of the current abuse window.
  #subscribeTokens = 0;
  #subscribeAt = 0;
  #refusals = 0;
  #refusalsSince = 0;

  constructor(options: SessionOptions) {
    this.id = options.id;
    this.viewer = options.viewer;
    this.transport = options.transport;
    this.#onClosed = options.onClosed;
    this.#codes = options.codes;
    this.#counters = options.counters ?? { framesSent: 0 };
    this.expiresAt = options.viewer.expiresAt;
    this.#subscribeRate = options.subscribeRate;
    this.#subscribeTokens = options.subscribeRate?.burst ?? 0;
    this.writer = new SessionWriter(options.transport, options.queue, this);
  }

  /** The writer's call when a bound is passed (see SessionWriter). */
  overflowed(): void {
    this.close(this.#codes.slowConsumer, 'Too slow: the send queue is full; reconnect and resume from your last cursor');
  }

  /**
   * Spends one `subscribe` of the session's budget: 0 when admitted, else the milliseconds until one is there. Past
   * SUBSCRIBE_REFUSALS_BEFORE_CLOSE refusals within 10 s the session is closed (`codes.rateLimited`) as well.
   */
  admitSubscribe(now = Date.now()): number {
    const rate = this.#subscribeRate;
    if (!rate) return 0;
    this.#subscribeTokens = Math.min(rate.burst, this.#subscribeTokens + ((now - this.#subscribeAt) / 1000) * rate.perSecond);
    this.#subscribeAt = now;
    if (this.#subscribeTokens >= 1) {
      this.#subscribeTokens -= 1;
      return 0;
    }
    rate.refused.subscribeRate++;
    if (now - this.#refusalsSince > ABUSE_WINDOW_MS) {
      this.#refusalsSince = now;
      this.#refusals = 0;
    }
    if (++this.#refusals >= SUBSCRIBE_REFUSALS_BEFORE_CLOSE && this.#codes.rateLimited !== undefined) {
      this.close(this.#codes.rateLimited, `Rate limited: ${this.#refusals} subscribes refused within ${ABUSE_WINDOW_MS / 1000} s (SUBSCRIBE_RATE_PER_CONNECTION); back off before reconnecting`);
    }
    return Math.ceil(((1 - this.#subscribeTokens) / rate.perSecond) * 1000);
  }

  /** Closes the session if its token has expired by `now`; the registry's sweep calls it. */
  expireAt(now: number): void {
    if (this.expiresAt !== undefined && now >= this.expiresAt) this.close(this.#codes.tokenExpired, 'Unauthorized: token expired');
  }

  get userId(): string {
    return this.viewer.userId;
  }

  get role(): Role {
    return this.viewer.role;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queues a frame for the peer (see SessionWriter for the bounds). */
  send(frame: Frame, collapseKey?: string): void {
    this.#counters.framesSent++;
    this.writer.send(frame, collapseKey);
  }

  /** Registers a running operation; one added after the session closed is stopped at once. */
  addOperation(id: string, operation: SessionOperation): void {
    if (this.#closed) return operation.stop();
    this.operations.set(id, operation);
  }

  /** Stops one operation (the client completed it, or it ended). */
  stopOperation(id: string): void {
    const operation = this.operations.get(id);
    if (!operation) return;
    this.operations.delete(id);
    operation.stop();
  }

  /** Ends the session: stops its operations, drops its queue, tells the peer why. Idempotent. */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.writer.close();
    for (const id of [...this.operations.keys()]) this.stopOperation(id);
    this.transport.end(code, reason);
    this.#onClosed(this, code);
  }

  /** The peer went away: same as close, without a message to a peer that cannot read it. */
  gone(): void {
    this.close(1006, 'peer gone');
  }
}
