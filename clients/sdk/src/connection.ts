/**
 * What the client needs from a transport: a connection that becomes ready (WebSocket: `connection_ack`; SSE:
 * the first stream answered 200), runs operations, and ends once with a close code — the WebSocket close code,
 * or for SSE the code of the final `event: error` frame, or the one an HTTP refusal maps to (README "Transports").
 */
import type { HeraldError } from './errors.js';
import type { GraphQLRequest } from './http.js';

export type TransportKind = 'websocket' | 'sse';

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  /** True when the connection ended before it was ready (the handshake failed). */
  readonly beforeReady: boolean;
  /** Seconds from an HTTP `Retry-After`, when the refusal had one. */
  readonly retryAfterSeconds?: number;
}

/** One GraphQL execution result, as a subscription delivers it. */
export interface ResultLike {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

export interface OperationSink {
  next(result: ResultLike): void;
  /** The operation failed on its own (the connection stays). */
  error(error: HeraldError): void;
  /** The server completed the operation. */
  complete(): void;
}

export interface Connection {
  readonly kind: TransportKind;
  /** Resolves when usable; never rejects (a failed handshake shows in `closed` with `beforeReady`). */
  readonly ready: Promise<void>;
  readonly isReady: boolean;
  /** Resolves once, with why the connection ended (never for `close()` called by the client). */
  readonly closed: Promise<CloseInfo>;
  /** Starts an operation; returns a function that stops it. */
  subscribe(request: GraphQLRequest, sink: OperationSink): () => void;
  /** Ends the connection on the client's initiative; `closed` does not resolve. */
  close(): void;
}

/** Codes a client uses when no close frame says why. */
export const LocalCloseCode = {
  /** The socket or stream broke without a close frame (server killed, network down). */
  Abnormal: 1006,
  /** The client gave up on a silent peer (no pong, no bytes). */
  Terminated: 4499,
  /** No `connection_ack` (or no response) within `connectTimeoutMs`. */
  AckTimeout: 4504,
} as const;
