/**
 * The graphql-transport-ws protocol (graphql-ws's, byte-compatible with its `createClient`) on the `ws`
 * package, at /graphql on the HTTP server's port. graphql-ws's own server (`useServer`) is not used: it
 * serializes and awaits every message per subscriber, closes the whole socket on one bad operation and
 * prints stack traces for socket errors. Here each connection is a `Session` (limits, token expiry, a
 * bounded writer); this module keeps only the framing. It uses graphql-ws's message parser, message
 * types and close codes.
 *
 * A connection is one `WsConnection` and each operation one `WsOperation`, with their methods on the prototype
 * and the socket's listeners shared by all sockets, so an idle subscribed socket costs a few objects and no
 * closures. A live event's `next` message is written as one complete WebSocket frame built in one buffer (frame
 * header, this subscription's `{"id":…,"type":"next","payload":`, the group's shared bytes, `}`), straight to
 * the TCP socket: one write per event per socket. Everything else goes through `ws`'s sender.
 *
 * The token arrives in `connection_init` as `{ authorization: "Bearer <jwt>" }`: missing/invalid/expired
 * closes with 4401, a refused role with 4403, a full instance or user with 4029, each with a reason. An upgrade over
 * CONNECTION_RATE_PER_IP is answered HTTP 429 with `Retry-After` before the handshake; a `subscribe` over
 * SUBSCRIBE_RATE_PER_CONNECTION gets an `error` (RATE_LIMITED) for its id, and a client that keeps on is closed with 4032.
 * Operations run through Yoga's envelop (operation.ts), so parsing limits, validation and error masking are the
 * same as over HTTP; an operation that fails gets an `error` message for its id, and the socket stays open.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, parseMessage, type SubscribeMessage } from 'graphql-ws';
import type { GraphQLError } from 'graphql';
import { HeraldCloseCode } from '../../clients/protocol/index.js';
import type { TokenVerifier } from '../auth/tokens.js';
import type { Hub } from '../events/hub.js';
import type { Logger } from '../log.js';
import type { Session, SessionOperation, SessionTransport } from '../live/session.js';
import type { Frame } from '../live/writer.js';
import type { FeedSink, LiveFeed } from '../events/stream.js';
import type { HeraldEvent } from '../events/model.js';
import type { LiveGroup } from '../graphql/live-groups.js';
import { bearerToken } from '../auth/tokens.js';
import { isAppError, LimitError, RateLimitError, type AppError } from '../errors.js';
import { serializeErrors, serializeResult } from '../graphql/serialize.js';
import { toGraphQLError } from '../graphql/errors.js';
import type { OperationRunner } from './operation.js';
import { collapseKey } from '../live/collapse.js';
import { createLogThrottle, type LogThrottle } from './log-throttle.js';
import { errorBody } from './error-response.js';
import type { ClientAddressOf } from './client-address.js';
import { requestIdOf } from './request-id.js';

export interface WsOptions {
  readonly server: Server;
  /** Runs operations through Yoga's envelop (shared with SSE). */
  readonly runner: OperationRunner;
  readonly hub: Hub;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  /** The client of an upgrade request, for CONNECTION_RATE_PER_IP (client-address.ts). */
  readonly clientAddress: ClientAddressOf;
  // The limits below come from the config (each default is written there, next to its variable).
  /** Ping interval (WS_KEEPALIVE_MS). */
  readonly keepAliveMs: number;
  /** A peer that answers no ping this long is dropped (HEARTBEAT_TIMEOUT_MS). */
  readonly heartbeatTimeoutMs: number;
  /** Subscriptions one socket may hold (MAX_SUBSCRIPTIONS_PER_CONNECTION). */
  readonly maxSubscriptions: number;
  /** Largest message accepted; ws closes with 1009 above it (MAX_REQUEST_BYTES). */
  readonly maxPayloadBytes: number;
  /** Time allowed between opening the socket and `connection_init` (CONNECTION_INIT_TIMEOUT_MS). */
  readonly connectionInitWaitTimeoutMs: number;
}

/** Close reasons must fit in 123 bytes. */
const reason = (message: string) => Buffer.from(message).subarray(0, 120).toString();

const CLOSE_BRACE = Buffer.from('}');
/** Frames are text messages, also when handed over as bytes. */
const TEXT = { binary: false } as const;

const CODES = { tokenExpired: CloseCode.Unauthorized, slowConsumer: HeraldCloseCode.SlowConsumer, rateLimited: HeraldCloseCode.RateLimited } as const;

/**
 * One unmasked, final text frame (RFC 6455 5.2) holding `head` + `body` + `tail`: what `ws` would send for that
 * message without compression, in one buffer.
 */
export function textFrame(head: Buffer, body: Buffer, tail: Buffer): Buffer {
  const length = head.length + body.length + tail.length;
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81;
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6);
  }
  head.copy(frame, header);
  body.copy(frame, header + head.length);
  tail.copy(frame, header + head.length + body.length);
  return frame;
}

/** `{"id":"…","type":"next","payload":…}` with the payload already serialized. */
export const nextFrame = (idJson: string, payloadJson: string) => `{"id":${idJson},"type":"next","payload":${payloadJson}}`;

/** What every connection of one server shares. */
interface WsServerContext {
  readonly runner: OperationRunner;
  readonly hub: Hub;
  readonly verifier: TokenVerifier;
  readonly maxSubscriptions: number;
  readonly logger: Logger;
  /** Bad frames, socket errors: a flood is one line per interval. */
  readonly socketErrors: LogThrottle;
  readonly subscribeRefusals: LogThrottle;
}

const CONNECTION = Symbol('herald.ws');
type TrackedSocket = WebSocket & { [CONNECTION]?: WsConnection };

// The socket's listeners, shared by every socket (`this` is the socket).
function onSocketMessage(this: TrackedSocket, data: RawData, isBinary: boolean) {
  this[CONNECTION]?.message(data, isBinary);
}
function onSocketPong(this: TrackedSocket) {
  const connection = this[CONNECTION];
  if (connection) connection.seen = Date.now();
}
function onSocketClose(this: TrackedSocket) {
  this[CONNECTION]?.closed();
}
function onSocketError(this: TrackedSocket, error: Error) {
  this[CONNECTION]?.noteError(error.message);
}

/** One WebSocket: the protocol state machine, and the session's transport once `connection_init` passed. */
class WsConnection implements SessionTransport {
  readonly kind = 'websocket' as const;
  readonly raw: Socket;
  session: Session | undefined;
  initialised = false;
  /** Last sign of life (any message or pong), for the heartbeat sweep. */
  seen = Date.now();
  initTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly socket: TrackedSocket,
    readonly server: WsServerContext,
    initWaitMs: number,
    /** The upgrade request's id (X-Request-Id), in log lines about this connection. */
    readonly requestId: string,
  ) {
    this.raw = (socket as unknown as { _socket: Socket })._socket;
    socket[CONNECTION] = this;
    socket.on('message', onSocketMessage);
    socket.on('pong', onSocketPong);
    socket.on('close', onSocketClose);
    socket.on('error', onSocketError);
    this.initTimer = setTimeout(() => {
      if (!this.session) socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }, initWaitMs);
    this.initTimer.unref?.();
  }

  // SessionTransport: strings go through ws's sender; buffers are complete frames (textFrame) for the TCP socket.
  write(frame: Frame): void {
    if (this.socket.readyState !== this.socket.OPEN || this.raw.destroyed) return;
    if (typeof frame === 'string') this.socket.send(frame, TEXT);
    else this.raw.write(frame);
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  onceDrained(listener: () => void): void {
    this.raw.once('drain', listener);
  }

  end(code: number, why: string): void {
    const socket = this.socket;
    if (code !== 1006 && this.server.logger.isLevelEnabled('debug')) this.log().debug({ code, reason: why }, 'session closed by the server');
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
      if (code === 1006) socket.terminate();
      else socket.close(code, reason(why));
    }
  }

  /** A protocol message for the peer, queued behind its events once the session exists. */
  send(frame: string): void {
    if (this.session) this.session.send(frame);
    else this.socket.send(frame);
  }

  sendError(id: string, errors: readonly GraphQLError[]): void {
    this.send(`{"id":${JSON.stringify(id)},"type":"error","payload":${serializeErrors(errors)}}`);
  }

  closed(): void {
    this.clearInitTimer();
    const session = this.session;
    if (session && !session.closed && this.server.logger.isLevelEnabled('debug')) this.log().debug({ code: 1006 }, 'session closed: peer gone');
    session?.gone();
  }

  /** A child logger naming this connection (made when a line is written, not kept per socket). */
  log(): Logger {
    return this.server.logger.child({ requestId: this.requestId, ...(this.session ? { sessionId: this.session.id } : {}), transport: 'websocket' });
  }

  noteError(message: string): void {
    this.server.socketErrors.note({ requestId: this.requestId, sessionId: this.session?.id, remote: this.raw.remoteAddress, message });
  }

  clearInitTimer(): void {
    if (this.initTimer) clearTimeout(this.initTimer);
    this.initTimer = undefined;
  }

  message(data: RawData, isBinary: boolean): void {
    this.seen = Date.now();
    const socket = this.socket;
    let message;
    try {
      message = parseMessage(isBinary ? Buffer.from(data as Buffer).toString() : String(data));
    } catch (error) {
      this.noteError((error as Error).message);
      socket.close(CloseCode.BadRequest, reason(`Invalid message: ${(error as Error).message}`));
      return;
    }
    switch (message.type) {
      case MessageType.ConnectionInit:
        return this.init(message.payload);
      case MessageType.Ping:
        return this.send('{"type":"pong"}');
      case MessageType.Pong:
        return;
      case MessageType.Subscribe: {
        const session = this.session;
        if (!session) return socket.close(CloseCode.Unauthorized, 'Unauthorized');
        if (session.closed) return; // closing (too slow, expired, revoked): nothing new starts
        if (session.operations.has(message.id)) {
          return socket.close(CloseCode.SubscriberAlreadyExists, reason(`Subscriber for ${message.id} already exists`));
        }
        const max = this.server.maxSubscriptions;
        if (session.operations.size >= max) {
          const refusal = new LimitError('TOO_MANY_SUBSCRIPTIONS', `This connection already holds ${max} subscriptions (MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one first`);
          return this.sendError(message.id, [toGraphQLError(refusal)]);
        }
        const waitMs = session.admitSubscribe();
        if (waitMs > 0) {
          this.server.subscribeRefusals.note({ requestId: this.requestId, sessionId: session.id, userId: session.userId, closed: session.closed });
          if (session.closed) return; // kept on past the budget: closed with 4032
          const refusal = new RateLimitError('Subscribing faster than this connection may (SUBSCRIBE_RATE_PER_CONNECTION); retry after the delay', waitMs);
          return this.sendError(message.id, [toGraphQLError(refusal)]);
        }
        return void new WsOperation(this, session, message.id).run(message);
      }
      case MessageType.Complete:
        return this.session?.stopOperation(message.id);
      default:
        // Server -> Client messages sent by a client.
        socket.close(CloseCode.BadRequest, reason(`Unexpected message of type ${message.type}`));
    }
  }

  init(payload: Record<string, unknown> | null | undefined): void {
    const socket = this.socket;
    if (this.initialised) return socket.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
    this.initialised = true;
    try {
      const raw = payload?.['authorization'] ?? payload?.['Authorization'];
      const token = bearerToken(typeof raw === 'string' ? raw : undefined);
      if (!token) {
        return socket.close(CloseCode.Unauthorized, 'Unauthorized: connection_init payload needs {"authorization":"Bearer <token>"}');
      }
      this.session = this.server.hub.connections.open(this.server.verifier.verify(token), this, CODES);
    } catch (error) {
      if (!isAppError(error)) throw error;
      if (this.server.logger.isLevelEnabled('debug')) this.log().debug({ code: error.code }, 'connection refused');
      const code = error.code === 'TOO_MANY_CONNECTIONS' ? HeraldCloseCode.TooManyConnections : error.status === 403 ? CloseCode.Forbidden : CloseCode.Unauthorized;
      const label = code === CloseCode.Unauthorized ? 'Unauthorized' : code === CloseCode.Forbidden ? 'Forbidden' : 'Too many connections';
      return socket.close(code, reason(`${label}: ${error.message}`));
    }
    this.clearInitTimer();
    if (this.server.logger.isLevelEnabled('debug')) this.log().debug({ userId: this.session.userId, role: this.session.role, remote: this.raw.remoteAddress }, 'session opened');
    this.session.send('{"type":"connection_ack"}');
  }
}

/** One `subscribe` of a connection: runs it (operation.ts) and frames its outcome; for a live feed, its sink. */
class WsOperation implements SessionOperation, FeedSink {
  readonly idJson: string;
  stopped = false;
  feed: LiveFeed | undefined;
  group: LiveGroup | undefined;
  results: AsyncIterableIterator<unknown> | undefined;
  /** `{"id":…,"type":"next","payload":`, the part of a live frame that is this subscription's own. */
  head: Buffer | undefined;

  constructor(
    readonly connection: WsConnection,
    readonly session: Session,
    readonly id: string,
  ) {
    this.idJson = JSON.stringify(id);
    // Registered before any await, so a `complete` or a close during setup stops it too.
    session.addOperation(id, this);
  }

  stop(): void {
    this.stopped = true;
    void this.feed?.return?.();
    this.group?.leave();
    void this.results?.return?.();
    this.feed = this.group = this.results = undefined;
  }

  /** Forgets this run's entry only: a `complete` then a new `subscribe` with the same id may have replaced it. */
  release(): void {
    if (this.session.operations.get(this.id) === this) this.session.operations.delete(this.id);
  }

  finish(): void {
    if (this.session.operations.get(this.id) === this && !this.stopped) {
      this.release();
      this.session.send(`{"id":${this.idJson},"type":"complete"}`);
    }
  }

  // FeedSink: the feed calls deliver per event; the group renders it once for all its members.
  deliver(event: HeraldEvent): void {
    const key = collapseKey(event);
    this.session.send(textFrame(this.head!, this.group!.render(event), CLOSE_BRACE), key === undefined ? undefined : this.idJson + key);
  }

  ready(): Promise<void> {
    return this.session.writer.ready();
  }

  fail(error: unknown): void {
    if (this.stopped) return;
    this.stop();
    this.release();
    this.connection.sendError(this.id, [this.connection.server.runner.clientError(error, { requestId: this.connection.requestId, sessionId: this.session.id })]);
  }

  async run(message: SubscribeMessage): Promise<void> {
    const { runner } = this.connection.server;
    const session = this.session;
    const outcome = await runner.run({ viewer: session.viewer, transport: 'websocket', requestId: this.connection.requestId, sessionId: session.id }, message.payload);
    if (this.stopped) return runner.dispose(outcome);
    switch (outcome.kind) {
      case 'refused':
        this.release();
        return this.connection.sendError(this.id, outcome.errors);
      case 'result':
        session.send(nextFrame(this.idJson, serializeResult(outcome.result)));
        return this.finish();
      case 'live':
        this.feed = outcome.feed;
        this.group = outcome.group;
        this.head = Buffer.from(`{"id":${this.idJson},"type":"next","payload":`);
        return outcome.feed.attach(this);
      case 'stream': {
        const results = (this.results = outcome.results);
        try {
          for await (const value of results) {
            if (this.stopped) break;
            session.send(nextFrame(this.idJson, serializeResult(value)));
          }
          this.finish();
        } catch (error) {
          this.release();
          if (!this.stopped && !session.closed) this.connection.sendError(this.id, [runner.clientError(error, { requestId: this.connection.requestId, sessionId: session.id })]);
        }
      }
    }
  }
}

/** Answers an upgrade refused before the handshake: an HTTP response on the raw socket, then the socket is closed. */
function refuseUpgrade(socket: Duplex, error: AppError, requestId: string): void {
  const body = errorBody(error);
  const retryAfter = error instanceof RateLimitError ? `Retry-After: ${error.retryAfterSeconds}\r\n` : '';
  // As ws's own refusals: a peer that resets meanwhile is no error, and the socket goes once the answer is out.
  socket.on('error', () => {});
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${error.status} ${error.status === 429 ? 'Too Many Requests' : 'Bad Request'}\r\n${retryAfter}` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function attachWebSocket(options: WsOptions): { close(): Promise<void> } {
  const { logger, keepAliveMs, heartbeatTimeoutMs } = options;
  const initWaitMs = options.connectionInitWaitTimeoutMs;
  const context: WsServerContext = {
    runner: options.runner,
    hub: options.hub,
    verifier: options.verifier,
    maxSubscriptions: options.maxSubscriptions,
    logger,
    socketErrors: createLogThrottle(logger, 'websocket protocol errors'),
    subscribeRefusals: createLogThrottle(logger, 'subscribes refused by SUBSCRIBE_RATE_PER_CONNECTION'),
  };
  const upgradeRefusals = createLogThrottle(logger, 'websocket upgrades refused by CONNECTION_RATE_PER_IP');
  // noServer: upgrades are admitted here (CONNECTION_RATE_PER_IP) before the handshake, so a refusal is an HTTP 429.
  const wss = new WebSocketServer({
    noServer: true,
    path: '/graphql',
    maxPayload: options.maxPayloadBytes,
    // Frames of live events are written pre-framed (textFrame), which needs messages uncompressed.
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(GRAPHQL_TRANSPORT_WS_PROTOCOL) ? GRAPHQL_TRANSPORT_WS_PROTOCOL : false),
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const requestId = requestIdOf(req);
    if (wss.shouldHandle(req)) {
      const client = options.clientAddress(req);
      try {
        options.hub.connections.admit(client);
      } catch (error) {
        if (!isAppError(error)) throw error;
        upgradeRefusals.note({ requestId, client });
        return refuseUpgrade(socket, error, requestId);
      }
    }
    // A path other than /graphql: ws answers 400.
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  options.server.on('upgrade', onUpgrade);
  wss.on('headers', (headers, req) => headers.push(`X-Request-Id: ${requestIdOf(req)}`));

  wss.on('error', (error) => logger.error({ err: error }, 'websocket server error'));
  wss.on('connection', (socket, req: IncomingMessage) => {
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    new WsConnection(socket, context, initWaitMs, requestIdOf(req));
  });
  // One sweep for all sockets: ping, and drop the ones that stayed silent past the timeout.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const socket of wss.clients as Set<TrackedSocket>) {
      const connection = socket[CONNECTION];
      if (!connection) continue;
      if (now - connection.seen > heartbeatTimeoutMs) {
        socket.terminate();
        continue;
      }
      if (socket.readyState === socket.OPEN) socket.ping();
    }
  }, Math.min(keepAliveMs, heartbeatTimeoutMs / 2));
  sweep.unref?.();

  return {
    async close() {
      clearInterval(sweep);
      options.server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.close(1001, 'Going away: server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
