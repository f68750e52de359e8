/**
 * SSE at /graphql: `GET` (EventSource: `?query=&variables=&access_token=`) or `POST` (graphql-sse's
 * distinct-connections client: a JSON body) with `Accept: text/event-stream`. Served on Node's own request
 * and response, not through Yoga's fetch adapter: a stream holds one `ServerResponse` and its `Session`,
 * nothing per request beyond that, and frames go to the socket with its real backpressure
 * (`writableLength`, `drain`). Operations still run through Yoga's envelop (operation.ts), so limits,
 * validation and error masking are the same as over HTTP and WebSocket.
 *
 * The format is what graphql-sse and EventSource read: `event: next` / `data: <result>` per result,
 * `event: complete` at the end, plus what resuming clients need: an `id:` line with the event's cursor
 * (EventSource resends it as `Last-Event-ID`), a `: heartbeat` comment on idle streams, and
 * `X-Accel-Buffering: no` so nginx-style proxies do not buffer. When the server ends a stream it sends a
 * final `event: error` naming the reason (clients/protocol `SseCloseData`). Failures before the stream
 * starts (authentication, a malformed request, a connection limit) are JSON error responses with a status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { HeraldCloseCode, SSE_CLOSE_EVENT } from '../../clients/protocol/index.js';
import { bearerToken, type TokenVerifier } from '../auth/tokens.js';
import type { SessionRegistry } from '../live/session-registry.js';
import type { Session, SessionOperation, SessionTransport } from '../live/session.js';
import type { FeedSink, LiveFeed } from '../events/stream.js';
import type { LiveGroup } from '../graphql/live-groups.js';
import type { Frame } from '../live/writer.js';
import { collapseKey } from '../live/collapse.js';
import type { HeraldEvent } from '../events/model.js';
import type { CursorCodec } from '../events/cursor.js';
import { isAppError, RequestError, type AppError } from '../errors.js';
import { serializeResult } from '../graphql/serialize.js';
import { splice } from '../graphql/live-groups.js';
import { missingCredentials } from './auth.js';
import { writeError } from './error-response.js';
import type { OperationOutcome, OperationParams, OperationRunner } from './operation.js';
import type { ClientAddressOf } from './client-address.js';
import type { Logger } from '../log.js';
import { createLogThrottle } from './log-throttle.js';
import { requestIdOf } from './request-id.js';

export interface SseOptions {
  readonly sessions: SessionRegistry;
  readonly runner: OperationRunner;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  /** The client of a request, for CONNECTION_RATE_PER_IP (client-address.ts). */
  readonly clientAddress: ClientAddressOf;
  /** The log's cursors, for each event's `id:` line. */
  readonly cursors: CursorCodec;
  // The limits come from the config (each default is written there, next to its variable).
  /** Largest request body read (MAX_REQUEST_BYTES). */
  readonly maxRequestBytes: number;
  /** @default '/graphql' */
  readonly endpoint?: string;
  /** Idle interval between heartbeat comments (SSE_HEARTBEAT_MS). */
  readonly heartbeatMs: number;
  /** A stream whose peer takes nothing this long is dropped (HEARTBEAT_TIMEOUT_MS). */
  readonly heartbeatTimeoutMs: number;
  /** How long a stream the server ended may take to flush its last bytes before its socket is cut. @default 10000 */
  readonly closeGraceMs?: number;
}

export interface SseHandler {
  /** Whether the request is an SSE request at the GraphQL endpoint (GET or POST, `Accept: text/event-stream`). */
  accepts(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Streams open now. */
  readonly size: number;
  /** Stops the heartbeat sweep (the sessions are closed by their registry). */
  close(): void;
}

const COMPLETE = 1000;
/** The reconnection delay an SSE stream ended by a restart suggests (`retry:`). */
const RESTART_RETRY_MS = 1000;
const GONE = 1006;
const OPENING = Buffer.from(':\n\n');
const HEARTBEAT = Buffer.from(': heartbeat\n\n');
const COMPLETE_FRAME = Buffer.from('event: complete\ndata:\n\n');
const BLANK_LINE = Buffer.from('\n\n');
/** An event's SSE frame has no per-stream part: a group builds it once and every stream writes the same bytes. */
const sseFrameOf = (cursors: CursorCodec) => (body: Buffer, event: HeraldEvent) =>
  splice(Buffer.from(`id: ${cursors.encode(event.seq)}\nevent: next\ndata: `), body, BLANK_LINE);
const CODES = { tokenExpired: CloseCode.Unauthorized, slowConsumer: HeraldCloseCode.SlowConsumer } as const;
const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** Status from `extensions.http.status` of the errors of a single (non-streamed) result. */
function statusOf(errors: ExecutionResult['errors']): number {
  let status = 200;
  for (const error of errors ?? []) {
    const http = (error.extensions as { http?: { status?: number } } | undefined)?.http;
    if (http?.status && http.status > status) status = http.status;
  }
  return status;
}

/** Cross-origin reads are allowed as for the rest of the API (bearer tokens, no cookies). */
function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  return origin ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' } : {};
}

function sendError(req: IncomingMessage, res: ServerResponse, error: AppError, extra: Record<string, string> = {}): void {
  writeError(res, error, { ...corsHeaders(req), ...extra });
}

const badRequest = (message: string) => new RequestError('BAD_REQUEST', 400, message);

function parseJsonObject(text: string | null | undefined, name: string): Record<string, unknown> | null {
  if (text === null || text === undefined || text === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest(`${name}: not valid JSON`);
  }
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw badRequest(`${name}: must be a JSON object`);
  return value as Record<string, unknown> | null;
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new RequestError('REQUEST_TOO_LARGE', 413, `Request body is larger than ${maxBytes} bytes (MAX_REQUEST_BYTES)`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

/** `query`, `operationName`, `variables`, `extensions` from the URL (GET) or the JSON body (POST). */
async function readParams(req: IncomingMessage, url: URL, maxBytes: number): Promise<OperationParams> {
  let source: Record<string, unknown>;
  if (req.method === 'GET') {
    const q = url.searchParams;
    source = { query: q.get('query'), operationName: q.get('operationName'), variables: parseJsonObject(q.get('variables'), 'variables'), extensions: parseJsonObject(q.get('extensions'), 'extensions') };
  } else {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/(graphql-response\+)?json\b/i.test(type)) {
      throw new RequestError('UNSUPPORTED_MEDIA_TYPE', 415, 'Send the operation as a JSON body (Content-Type: application/json)');
    }
    source = parseJsonObject(await readBody(req, maxBytes), 'body') ?? {};
  }
  const { query, operationName, variables, extensions } = source;
  if (typeof query !== 'string' || query === '') throw badRequest('query: a GraphQL document is required');
  if (operationName !== null && operationName !== undefined && typeof operationName !== 'string') throw badRequest('operationName: must be a string');
  for (const [name, value] of [['variables', variables], ['extensions', extensions]] as const) {
    if (value !== null && value !== undefined && (typeof value !== 'object' || Array.isArray(value))) throw badRequest(`${name}: must be an object`);
  }
  return { query, operationName: operationName as string | null | undefined, variables: variables as Record<string, unknown> | null, extensions: extensions as Record<string, unknown> | null };
}

/** The stream behind each response, for the shared event listeners below. */
const STREAM = Symbol('herald.sse');
type StreamResponse = ServerResponse & { [STREAM]?: SseStream };

function onResponseClose(this: StreamResponse) {
  this[STREAM]?.session?.gone();
}
function onResponseDrain(this: StreamResponse) {
  const stream = this[STREAM];
  if (stream) stream.progressAt = stream.clock.now;
}

/** A coarse clock the sweep advances, so the hot path never calls `Date.now()`. */
interface Clock {
  now: number;
}

/**
 * One SSE stream: the session's transport (frames are written to the response; drain is the response's), and for
 * a live subscription its operation and its feed's sink, so a stream is one object with prototype methods.
 */
class SseStream implements SessionTransport, SessionOperation, FeedSink {
  readonly kind = 'sse' as const;
  session: Session | undefined;
  /** Set on each write; the sweep turns it into `writeAt`. */
  wrote = false;
  writeAt: number;
  /** When the peer last took bytes (a drain, or an empty buffer seen by the sweep). */
  progressAt: number;
  #ended = false;
  feed: LiveFeed | undefined;
  group: LiveGroup | undefined;

  constructor(
    readonly res: StreamResponse,
    readonly clock: Clock,
    private readonly owner: { streams: Set<SseStream>; closeGraceMs: number; logger: Logger; frame: (body: Buffer, event: HeraldEvent) => Buffer },
  ) {
    this.writeAt = this.progressAt = clock.now;
    res[STREAM] = this;
    res.on('drain', onResponseDrain);
    res.once('close', onResponseClose);
  }

  write(frame: Frame): void {
    if (this.#ended) return;
    this.wrote = true;
    this.res.write(frame);
  }

  bufferedBytes(): number {
    return this.res.writableLength;
  }

  onceDrained(listener: () => void): void {
    this.res.once('drain', listener);
  }

  // SessionOperation and FeedSink of a live subscription.
  stop(): void {
    void this.feed?.return?.();
    this.group?.leave();
    this.feed = this.group = undefined;
  }

  deliver(event: HeraldEvent): void {
    // The group renders each event once, frame and all: an SSE frame has no per-stream part.
    this.session!.send(this.group!.shared(event, this.owner.frame), collapseKey(event));
  }

  ready(): Promise<void> {
    return this.session!.writer.ready();
  }

  fail(error: unknown): void {
    const session = this.session!;
    if (!isAppError(error)) this.owner.logger.error({ requestId: requestIdOf(this.res.req), sessionId: session.id, err: error }, 'unexpected error in a live SSE stream');
    session.close(CloseCode.InternalServerError, isAppError(error) ? error.message : 'Unexpected error');
  }

  end(code: number, why: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.owner.streams.delete(this);
    const res = this.res;
    const { logger } = this.owner;
    if (this.session && logger.isLevelEnabled('debug')) {
      logger.child({ requestId: requestIdOf(res.req), sessionId: this.session.id, transport: 'sse' }).debug({ code, reason: why }, code === GONE ? 'session closed: peer gone' : 'session closed by the server');
    }
    if (code === GONE) {
      res.destroy();
      return;
    }
    // A restart asks EventSource to come back soon (`retry:`), to another instance, with its Last-Event-ID.
    const retry = code === HeraldCloseCode.ServiceRestart ? `retry: ${RESTART_RETRY_MS}\n` : '';
    res.end(code === COMPLETE ? COMPLETE_FRAME : `${retry}event: ${SSE_CLOSE_EVENT}\ndata: ${JSON.stringify({ code, reason: why })}\n\n`);
    // A peer that takes nothing is not waited for: the socket is cut once the grace has passed.
    if (res.writableLength > 0) setTimeout(() => res.destroy(), this.owner.closeGraceMs).unref();
  }
}

export function createSseHandler(options: SseOptions): SseHandler {
  const { sessions, runner, verifier, logger, heartbeatMs, heartbeatTimeoutMs } = options;
  const endpoint = options.endpoint ?? '/graphql';
  // A flood of refused or malformed requests is logged as one line per interval, with a count.
  const refusals = createLogThrottle(logger, 'SSE requests refused');
  const owner = { streams: new Set<SseStream>(), closeGraceMs: options.closeGraceMs ?? 10_000, logger, frame: sseFrameOf(options.cursors) };
  const { streams } = owner;
  const clock: Clock = { now: Date.now() };

  let sweep: ReturnType<typeof setInterval> | undefined;
  const startSweep = () => {
    sweep ??= setInterval(() => {
      const now = (clock.now = Date.now());
      for (const stream of streams) {
        if (stream.wrote) {
          stream.wrote = false;
          stream.writeAt = now;
        }
        if (stream.res.writableLength === 0) {
          stream.progressAt = now;
          if (now - stream.writeAt >= heartbeatMs - 50) stream.write(HEARTBEAT);
        } else if (now - stream.progressAt > heartbeatTimeoutMs) stream.session?.gone();
      }
      if (streams.size === 0) {
        clearInterval(sweep);
        sweep = undefined;
      }
    }, Math.max(250, Math.floor(Math.min(heartbeatMs, heartbeatTimeoutMs) / 3)));
    sweep.unref?.();
  };

  function single(req: IncomingMessage, res: ServerResponse, result: ExecutionResult): void {
    const body = `:\n\nevent: next\ndata: ${serializeResult(result)}\n\nevent: complete\ndata:\n\n`;
    res.writeHead(statusOf(result.errors), { ...STREAM_HEADERS, ...corsHeaders(req), 'content-length': Buffer.byteLength(body) }).end(body);
  }

  /** Opens the stream's session and response; undefined when a limit refused it (answered already). */
  function open(req: IncomingMessage, res: ServerResponse, viewer: Session['viewer']): Session | undefined {
    clock.now = Date.now();
    const stream = new SseStream(res, clock, owner);
    let session: Session;
    try {
      session = sessions.open(viewer, stream, CODES);
    } catch (error) {
      if (!isAppError(error)) throw error;
      sendError(req, res, error, { 'retry-after': '5' });
      return undefined;
    }
    stream.session = session;
    if (logger.isLevelEnabled('debug')) {
      logger.child({ requestId: requestIdOf(req), sessionId: session.id, transport: 'sse' }).debug({ userId: session.userId, role: session.role, remote: req.socket.remoteAddress }, 'session opened');
    }
    streams.add(stream);
    startSweep();
    res.writeHead(200, { ...STREAM_HEADERS, ...corsHeaders(req) });
    // Flush headers at once: some clients stall until the first bytes arrive.
    stream.write(OPENING);
    return session;
  }

  function live(session: Session, outcome: Extract<OperationOutcome, { kind: 'live' }>): void {
    const stream = session.transport as SseStream;
    stream.feed = outcome.feed;
    stream.group = outcome.group;
    session.addOperation('sse', stream);
    outcome.feed.attach(stream);
  }

  async function pump(session: Session, outcome: Extract<OperationOutcome, { kind: 'stream' }>): Promise<void> {
    const { results, state } = outcome;
    session.addOperation('sse', { stop: () => void results.return?.() });
    try {
      for (;;) {
        const { done, value } = await results.next();
        if (done || session.closed) break;
        const id = state.cursor !== undefined ? `id: ${state.cursor}\n` : '';
        state.cursor = undefined;
        session.send(`${id}event: next\ndata: ${serializeResult(value)}\n\n`);
      }
      session.close(COMPLETE, 'complete');
    } catch (error) {
      session.close(CloseCode.InternalServerError, isAppError(error) ? error.message : 'Unexpected error');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // Before anything else is done for it: CONNECTION_RATE_PER_IP (429 RATE_LIMITED with Retry-After).
      sessions.admit(options.clientAddress(req));
      const url = new URL(req.url ?? '/', 'http://herald');
      let token = bearerToken(req.headers.authorization);
      token ??= url.searchParams.get('access_token') ?? undefined;
      if (!token) throw missingCredentials();
      const viewer = verifier.verify(token);
      const params = await readParams(req, url, options.maxRequestBytes);
      const lastEventId = req.headers['last-event-id'];
      const outcome = await runner.run(
        { viewer, transport: 'sse', lastEventId: typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : undefined, requestId: requestIdOf(req) },
        params,
        { mutations: req.method === 'POST' },
      );
      if (res.destroyed) return runner.dispose(outcome);
      if (outcome.kind === 'refused') return single(req, res, { errors: outcome.errors });
      if (outcome.kind === 'result') return single(req, res, outcome.result);
      const session = open(req, res, viewer);
      if (!session) return runner.dispose(outcome);
      if (outcome.kind === 'live') live(session, outcome);
      else await pump(session, outcome);
    } catch (error) {
      if (res.headersSent) return;
      if (isAppError(error)) {
        refusals.note({ requestId: requestIdOf(req), status: error.status, code: error.code });
        return sendError(req, res, error);
      }
      const masked = runner.clientError(error, { requestId: requestIdOf(req) });
      writeError(res, { status: 500, code: String(masked.extensions['code'] ?? 'INTERNAL_SERVER_ERROR'), message: masked.message });
    }
  }

  return {
    accepts: (req) =>
      (req.method === 'GET' || req.method === 'POST') &&
      (req.headers.accept ?? '').includes('text/event-stream') &&
      (req.url === endpoint || req.url?.startsWith(`${endpoint}?`) === true),
    handle,
    get size() {
      return streams.size;
    },
    close() {
      if (sweep) clearInterval(sweep);
      sweep = undefined;
    },
  };
}

