/**
 * The graphql-transport-ws protocol (graphql-ws's, byte-compatible with its `createClient`) on the `ws`
 * package, at /graphql on the HTTP server's port. graphql-ws's own server (`useServer`) is not used: it
 * serializes and awaits every message per subscriber, closes the whole socket on one bad operation and
 * prints stack traces for socket errors. Here each connection is a `Session` (limits, token expiry, a
 * bounded writer); this module keeps only the framing. It uses graphql-ws's message parser, message
 * types and close codes.
 *
 * The token arrives in `connection_init` as `{ authorization: "Bearer <jwt>" }`: missing/invalid/expired
 * closes with 4401, a refused role with 4403, a full instance or user with 4029, each with a reason.
 * Operations run through Yoga's envelop (operation.ts), so parsing limits, validation and error masking are the
 * same as over HTTP; an operation that fails gets an `error` message for its id, and the socket stays open.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, parseMessage, type SubscribeMessage } from 'graphql-ws';
import type { GraphQLError } from 'graphql';
import { HeraldCloseCode } from '../../clients/protocol/index.js';
import type { TokenVerifier } from '../auth/tokens.js';
import type { Hub } from '../events/hub.js';
import type { Logger } from '../log.js';
import type { Session, SessionTransport } from '../live/session.js';
import { bearerToken } from '../auth/tokens.js';
import { isAppError, LimitError } from '../errors.js';
import { serializeErrors, serializeResult } from '../graphql/serialize.js';
import { toGraphQLError } from '../graphql/errors.js';
import type { OperationRunner } from './operation.js';
import { splice } from '../graphql/live-groups.js';
import { collapseKey } from '../live/collapse.js';
import { createLogThrottle } from './log-throttle.js';

export interface WsOptions {
  readonly server: Server;
  /** Runs operations through Yoga's envelop (shared with SSE). */
  readonly runner: OperationRunner;
  readonly hub: Hub;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  /** Ping interval. @default 12000 */
  readonly keepAliveMs?: number;
  /** A peer that answers no ping this long is dropped. @default 60000 */
  readonly heartbeatTimeoutMs?: number;
  /** Subscriptions one socket may hold. @default 100 */
  readonly maxSubscriptions?: number;
  /** Largest message accepted (ws closes with 1009 above it). @default 1048576 */
  readonly maxPayloadBytes?: number;
  /** Time allowed between opening the socket and `connection_init`. @default 10000 */
  readonly connectionInitWaitTimeoutMs?: number;
}

/** Close reasons must fit in 123 bytes. */
const reason = (message: string) => Buffer.from(message).subarray(0, 120).toString();

const CLOSE_BRACE = Buffer.from('}');
/** Frames are text messages, also when handed over as bytes. */
const TEXT = { binary: false } as const;

const CODES = { tokenExpired: CloseCode.Unauthorized, slowConsumer: HeraldCloseCode.SlowConsumer } as const;

/** The `ws` socket as a session transport: frames are text messages; drain is the TCP socket's. */
function wsTransport(socket: WebSocket): SessionTransport {
  const raw = (socket as unknown as { _socket: Socket })._socket;
  return {
    kind: 'websocket',
    write: (frame) => socket.send(frame, TEXT),
    bufferedBytes: () => socket.bufferedAmount,
    onceDrained: (listener) => raw.once('drain', listener),
    end: (code, why) => {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
        if (code === 1006) socket.terminate();
        else socket.close(code, reason(why));
      }
    },
  };
}

/** `{"id":"…","type":"next","payload":…}` with the payload already serialized. */
export const nextFrame = (idJson: string, payloadJson: string) => `{"id":${idJson},"type":"next","payload":${payloadJson}}`;

export function attachWebSocket(options: WsOptions): { close(): Promise<void> } {
  const { runner, hub, verifier, logger } = options;
  const keepAliveMs = options.keepAliveMs ?? 12_000;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 60_000;
  const maxSubscriptions = options.maxSubscriptions ?? 100;
  const socketErrors = createLogThrottle(logger, 'websocket protocol errors');
  const wss = new WebSocketServer({
    server: options.server,
    path: '/graphql',
    maxPayload: options.maxPayloadBytes ?? 1024 * 1024,
    handleProtocols: (protocols) => (protocols.has(GRAPHQL_TRANSPORT_WS_PROTOCOL) ? GRAPHQL_TRANSPORT_WS_PROTOCOL : false),
  });
  const alive = new Map<WebSocket, number>(); // last sign of life, for the heartbeat sweep

  wss.on('error', (error) => logger.error({ err: error }, 'websocket server error'));
  wss.on('connection', (socket, request) => {
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    alive.set(socket, Date.now());
    // Keep the address, not the upgrade request (headers and all) for the socket's lifetime.
    const remote = request.socket.remoteAddress;
    let session: Session | undefined;
    let initialised = false;
    const initTimer = setTimeout(() => {
      if (!session) socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }, options.connectionInitWaitTimeoutMs ?? 10_000);
    initTimer.unref?.();

    const send = (frame: string) => (session ? session.send(frame) : socket.send(frame));
    const sendError = (id: string, errors: readonly GraphQLError[]) =>
      send(`{"id":${JSON.stringify(id)},"type":"error","payload":${serializeErrors(errors)}}`);

    socket.on('error', (error) => socketErrors.note({ remote, message: error.message }));
    socket.on('pong', () => alive.set(socket, Date.now()));
    socket.on('close', () => {
      clearTimeout(initTimer);
      alive.delete(socket);
      session?.gone();
    });
    socket.on('message', (data, isBinary) => {
      alive.set(socket, Date.now());
      let message;
      try {
        message = parseMessage(isBinary ? Buffer.from(data as Buffer).toString() : String(data));
      } catch (error) {
        socketErrors.note({ remote, message: (error as Error).message });
        socket.close(CloseCode.BadRequest, reason(`Invalid message: ${(error as Error).message}`));
        return;
      }
      switch (message.type) {
        case MessageType.ConnectionInit: {
          if (initialised) return socket.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
          initialised = true;
          try {
            const raw = message.payload?.['authorization'] ?? message.payload?.['Authorization'];
            const token = bearerToken(typeof raw === 'string' ? raw : undefined);
            if (!token) {
              return socket.close(CloseCode.Unauthorized, 'Unauthorized: connection_init payload needs {"authorization":"Bearer <token>"}');
            }
            session = hub.connections.open(verifier.verify(token), wsTransport(socket), CODES);
          } catch (error) {
            if (!isAppError(error)) throw error;
            const code = error.code === 'TOO_MANY_CONNECTIONS' ? HeraldCloseCode.TooManyConnections : error.status === 403 ? CloseCode.Forbidden : CloseCode.Unauthorized;
            const label = code === CloseCode.Unauthorized ? 'Unauthorized' : code === CloseCode.Forbidden ? 'Forbidden' : 'Too many connections';
            return socket.close(code, reason(`${label}: ${error.message}`));
          }
          clearTimeout(initTimer);
          return session.send('{"type":"connection_ack"}');
        }
        case MessageType.Ping:
          return send('{"type":"pong"}');
        case MessageType.Pong:
          return;
        case MessageType.Subscribe: {
          if (!session) return socket.close(CloseCode.Unauthorized, 'Unauthorized');
          if (session.closed) return; // closing (too slow, expired, revoked): nothing new starts
          if (session.operations.has(message.id)) {
            return socket.close(CloseCode.SubscriberAlreadyExists, reason(`Subscriber for ${message.id} already exists`));
          }
          if (session.operations.size >= maxSubscriptions) {
            const refusal = new LimitError('TOO_MANY_SUBSCRIPTIONS', `This connection already holds ${maxSubscriptions} subscriptions (MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one first`);
            return sendError(message.id, [toGraphQLError(refusal)]);
          }
          return void runOperation(session, message, sendError);
        }
        case MessageType.Complete:
          return session?.stopOperation(message.id);
        default:
          // Server -> Client messages sent by a client.
          socket.close(CloseCode.BadRequest, reason(`Unexpected message of type ${message.type}`));
      }
    });
  });

  /** Runs one operation (operation.ts) and frames its outcome: one result, or the live feed's events. */
  async function runOperation(session: Session, message: SubscribeMessage, sendError: (id: string, errors: readonly GraphQLError[]) => void) {
    const { id, payload } = message;
    const idJson = JSON.stringify(id);
    let stopped = false;
    let stopLive: (() => void) | undefined;
    // Registered before any await, so a `complete` or a close during setup stops it too.
    const entry = {
      stop: () => {
        stopped = true;
        stopLive?.();
      },
    };
    session.addOperation(id, entry);
    // Only this run's entry: a `complete` then a new `subscribe` with the same id may have replaced it.
    const release = () => {
      if (session.operations.get(id) === entry) session.operations.delete(id);
    };
    const finish = () => {
      if (session.operations.get(id) === entry && !stopped) {
        release();
        session.send(`{"id":${idJson},"type":"complete"}`);
      }
    };
    const outcome = await runner.run({ viewer: session.viewer, transport: 'websocket' }, payload);
    if (stopped) return runner.dispose(outcome);
    if (outcome.kind === 'refused') {
      release();
      return sendError(id, outcome.errors);
    }
    if (outcome.kind === 'result') {
      session.send(nextFrame(idJson, serializeResult(outcome.result)));
      return finish();
    }
    if (outcome.kind === 'live') {
      const { feed, group } = outcome;
      stopLive = () => {
        void feed.return?.();
        group.leave();
      };
      // Push: the feed calls us per event; the group renders it once for all its members.
      const head = Buffer.from(`{"id":${idJson},"type":"next","payload":`);
      feed.attach({
        deliver: (event) => {
          const key = collapseKey(event);
          session.send(splice(head, group.render(event), CLOSE_BRACE), key === undefined ? undefined : idJson + key);
        },
        ready: () => session.writer.ready(),
        fail: (error) => {
          if (stopped) return;
          entry.stop();
          release();
          sendError(id, [runner.clientError(error)]);
        },
      });
      return;
    }
    const iterator = outcome.results;
    stopLive = () => void iterator.return?.();
    try {
      for await (const value of iterator) {
        if (stopped) break;
        session.send(nextFrame(idJson, serializeResult(value)));
      }
      finish();
    } catch (error) {
      release();
      if (!stopped && !session.closed) sendError(id, [runner.clientError(error)]);
    }
  }

  // One sweep for all sockets: ping, and drop the ones that stayed silent past the timeout.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [socket, seen] of alive) {
      if (now - seen > heartbeatTimeoutMs) {
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
      for (const client of wss.clients) client.close(1001, 'Going away: server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
