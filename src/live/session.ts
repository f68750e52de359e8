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
  readonly codes: { readonly tokenExpired: number; readonly slowConsumer: number };
  /** Called once, after the session closed. */
  readonly onClosed: (session: Session) => void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export class Session {
  readonly id: number;
  readonly viewer: SessionOptions['viewer'];
  readonly transport: SessionTransport;
  readonly writer: SessionWriter;
  /** Live operations by the client's id (graphql-ws subscription id; SSE streams use one). */
  readonly operations = new Map<string, SessionOperation>();
  #closed = false;
  #expiry: ReturnType<typeof setTimeout> | undefined;
  readonly #onClosed: SessionOptions['onClosed'];

  constructor(options: SessionOptions) {
    this.id = options.id;
    this.viewer = options.viewer;
    this.transport = options.transport;
    this.#onClosed = options.onClosed;
    this.writer = new SessionWriter(options.transport, {
      ...options.queue,
      onOverflow: () => this.close(options.codes.slowConsumer, 'Too slow: the send queue is full; reconnect and resume from your last cursor'),
    });
    const expiresAt = options.viewer.expiresAt;
    if (expiresAt !== undefined) {
      this.#expiry = setTimeout(() => this.close(options.codes.tokenExpired, 'Unauthorized: token expired'), Math.min(Math.max(0, expiresAt - Date.now()), MAX_TIMER_MS));
      this.#expiry.unref?.();
    }
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
    if (this.#expiry) clearTimeout(this.#expiry);
    this.writer.close();
    for (const id of [...this.operations.keys()]) this.stopOperation(id);
    this.transport.end(code, reason);
    this.#onClosed(this);
  }

  /** The peer went away: same as close, without a message to a peer that cannot read it. */
  gone(): void {
    this.close(1006, 'peer gone');
  }
}
